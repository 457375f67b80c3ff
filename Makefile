# pegasus — build, test, ship.
#   make test     fmt check, clippy -D warnings, every test (what CI runs)
#   make static   static x86_64 musl binary at $(STATIC_BIN)
#   make install  release build installed into $(PREFIX)/bin
#   make demo     the whole create flow against a local fake API, no account needed
#   make bench    performance figures against the budget

CARGO      ?= cargo
PREFIX     ?= $(HOME)/.local
MUSL       := x86_64-unknown-linux-musl
STATIC_BIN := target/$(MUSL)/release/pegasus

.PHONY: all build test fmt clippy unit static static-deps install demo bench smoke clean

all: build

build:
	$(CARGO) build --release --bin pegasus

test: fmt clippy unit

fmt:
	$(CARGO) fmt --check

clippy:
	$(CARGO) clippy --all-targets -- -D warnings

unit:
	$(CARGO) test

# The static build needs the musl target and musl-gcc (ring, under rustls, has C parts).
static-deps:
	@rustup target list --installed 2>/dev/null | grep -qx '$(MUSL)' || rustup target add $(MUSL) || \
	  { echo "error: cannot add the $(MUSL) target; install rustup (https://rustup.rs) and run: rustup target add $(MUSL)" >&2; exit 1; }
	@command -v musl-gcc >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get install -y musl-tools >/dev/null 2>&1 || { $$SUDO apt-get update >/dev/null && $$SUDO apt-get install -y musl-tools >/dev/null; } ; \
	  fi; \
	  command -v musl-gcc >/dev/null 2>&1 || { echo "error: musl-gcc not found; install musl-tools (Debian/Ubuntu: apt-get install musl-tools)" >&2; exit 1; }; }

static: static-deps
	$(CARGO) build --release --locked --target $(MUSL) --bin pegasus
	@ls -l $(STATIC_BIN) | awk '{printf "built %s (%d bytes)\n", $$9, $$5}'
	@command -v file >/dev/null 2>&1 && file $(STATIC_BIN) || true

# The static binary in a stripped environment (no HOME, no PATH) against the fake API.
smoke: static
	$(CARGO) run --quiet --release --example smoke -- $(STATIC_BIN)

install: build
	install -d $(PREFIX)/bin
	install -m 755 target/release/pegasus $(PREFIX)/bin/pegasus
	@echo "installed $(PREFIX)/bin/pegasus"
	@case ":$$PATH:" in *":$(PREFIX)/bin:"*) ;; *) \
	  echo "note: $(PREFIX)/bin is not on your PATH; add it, e.g.: export PATH=\"$(PREFIX)/bin:\$$PATH\"" ;; esac

demo: build
	@echo "building the demo (a fake Hetzner API on this machine; no account needed)..."
	$(CARGO) run --quiet --release --example demo -- target/release/pegasus

bench: static
	$(CARGO) run --quiet --release --target $(MUSL) --example bench -- $(STATIC_BIN)

clean:
	$(CARGO) clean
