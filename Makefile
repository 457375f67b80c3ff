# pegasus — build, test, ship.
#   make test     fmt check, clippy -D warnings, every test (what CI runs)
#   make static   static x86_64 musl binary at $(STATIC_BIN)
#   make dist     dist/pegasus-VERSION-TARGET.tar.gz for Linux x86_64/aarch64 and macOS
#                 x86_64/arm64, and dist/SHA256SUMS
#   make dist-check  the sums, each size against 2.0 MiB, the smoke program on x86_64 and
#                 on aarch64 under qemu, the macOS binaries' format, minimum OS, libraries
#                 and code signature
#   make install  release build installed into $(PREFIX)/bin
#   make demo     the whole create flow against a local fake API, no account needed
#   make playground  the fake API (and SSH servers) in the foreground, to try pegasus from
#                 your own project without an account (ZONES="example.com" for --dns,
#                 SSH_PORT=2222 for the servers' SSH port); Ctrl-C stops it
#   make bench    performance figures against the budget

CARGO      ?= cargo
PREFIX     ?= $(HOME)/.local
MUSL       := x86_64-unknown-linux-musl
STATIC_BIN := target/$(MUSL)/release/pegasus
ARM_MUSL   := aarch64-unknown-linux-musl
MAC_X86    := x86_64-apple-darwin
MAC_ARM    := aarch64-apple-darwin
DIST_TARGETS := $(MUSL) $(ARM_MUSL) $(MAC_X86) $(MAC_ARM)
VERSION    := $(shell sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
# Oldest macOS each binary runs on (without it, the binaries demand the newest one).
MACOS_MIN_$(MAC_X86) := 10.12
MACOS_MIN_$(MAC_ARM) := 11.0
# Every shipped binary: at most 2.0 MiB (SPEC §1, a hard gate: dist-check fails a binary
# over it). README, "Size": where the bytes go and what keeps them down.
SIZE_BUDGET := 2097152
# The cross linker: Zig from PyPI, driven by cargo-zigbuild, pinned, in a venv of its own.
ZIGLANG_VERSION  := 0.15.2
ZIGBUILD_VERSION := 0.24.1
DIST_TOOLS := target/dist-tools
ZIG_PATH   := $(CURDIR)/$(DIST_TOOLS)/venv/bin
# Archives: fixed mtime (the commit's), owner and order, so two builds are byte-identical.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
# No build paths in the binaries (where they were built does not change their bytes):
# the checkout, and the crates' sources (`~/.cargo/registry/src/INDEX/ring-0.17.14/...` in
# panic locations becomes `ring-0.17.14/...`, about 8 KB less). The x86_64 Linux binary
# is static-pie: its relative relocations are packed (RELR), about 65 KB less. (aarch64
# musl links static, not PIE: it has no relocations to pack.)
CARGO_HOME ?= $(HOME)/.cargo
REMAP := --remap-path-prefix=$(CURDIR)=pegasus \
	$(foreach d,$(wildcard $(CARGO_HOME)/registry/src/*),--remap-path-prefix=$(d)/=)
# The Linux binaries carry no unwind tables (.eh_frame, its index and .gcc_except_table,
# about 270 KB each). With panic = "abort" nothing unwinds: the tables served only the
# backtrace a panic prints under RUST_BACKTRACE (addresses only, the binaries are
# stripped), which is now empty; the panic message and the abort are unchanged. The
# linker script is added to the default one (INSERT); crtbegin's and crtend's own bits
# stay (crtbegin registers them at start-up). macOS binaries keep their compact unwind
# info (about 20 KB). GNU ld (x86_64) and Zig's lld (aarch64) both read it.
UNWIND_LD := $(CURDIR)/target/no-unwind-tables.ld
NO_UNWIND := -C link-arg=-Wl,-T,$(UNWIND_LD)
# On x86_64, loops are not padded to 16-byte boundaries (`-align-loops=1`, what
# `opt-level = "z"` code gets anyway; it applies to the crate built for speed): about 5 KB,
# and the Kamal edit measured no slower (README, "Size").
X86_LOOPS := -C llvm-args=-align-loops=1
# No unwinder and no backtrace symbolizer in any shipped binary: with panic = "abort"
# nothing unwinds, and a stripped binary's backtrace has no names to show. The binary
# defines the unwinder's entry points itself (src/no_unwinder.rs); a panic prints its
# message and location and aborts, as before. About 250 KB on x86_64 Linux.
NO_UNWINDER := --cfg pegasus_no_unwinder
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS ?= -C link-arg=-Wl,-z,pack-relative-relocs $(NO_UNWIND) $(NO_UNWINDER) $(X86_LOOPS) $(REMAP)
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS ?= $(NO_UNWIND) $(NO_UNWINDER) $(REMAP)
export CARGO_TARGET_X86_64_APPLE_DARWIN_RUSTFLAGS ?= $(NO_UNWINDER) $(X86_LOOPS) $(REMAP)
export CARGO_TARGET_AARCH64_APPLE_DARWIN_RUSTFLAGS ?= $(NO_UNWINDER) $(REMAP)

.PHONY: all build test test-deps ssh-deps fmt clippy unit static static-deps install demo playground bench smoke clean \
	dist dist-deps dist-check dist-check-deps

all: build

build:
	$(CARGO) build --release --bin pegasus

test: test-deps ssh-deps fmt clippy unit

# The completion tests check the zsh and fish scripts with those shells: install them with
# apt when missing (as root or with sudo); elsewhere say what to do.
test-deps:
	@command -v zsh >/dev/null 2>&1 && command -v fish >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get install -y zsh fish >/dev/null 2>&1 || { $$SUDO apt-get update >/dev/null && $$SUDO apt-get install -y zsh fish >/dev/null; } ; \
	  fi; \
	  command -v zsh >/dev/null 2>&1 && command -v fish >/dev/null 2>&1 || \
	    echo "note: zsh or fish is missing; the completion tests fail without them: install both, or set PEGASUS_SKIP_SHELLS=1" >&2; }

# The login tests (and make demo, make bench) run a real OpenSSH server on loopback and log
# in with the real client: install them with apt when missing; else fail naming the package.
ssh-deps:
	@for p in /usr/sbin/sshd:openssh-server ssh:openssh-client ssh-keygen:openssh-client; do \
	  tool=$${p%%:*}; pkg=$${p#*:}; \
	  command -v $$tool >/dev/null 2>&1 && continue; \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get install -y $$pkg >/dev/null 2>&1 || { $$SUDO apt-get update >/dev/null 2>&1 && $$SUDO apt-get install -y $$pkg >/dev/null 2>&1; } ; \
	  fi; \
	  command -v $$tool >/dev/null 2>&1 || { echo "error: $$tool not found; install $$pkg (Debian/Ubuntu: apt-get install $$pkg)" >&2; exit 1; }; \
	done

fmt:
	$(CARGO) fmt --all --check

# The second run lints the binary as shipped (src/no_unwinder.rs is in it only then).
clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy --release --bin pegasus -- --cfg pegasus_no_unwinder -D warnings

unit:
	$(CARGO) test --workspace

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

$(UNWIND_LD): Makefile
	@mkdir -p $(@D)
	@printf '%s\n' '/* Written by the Makefile (see NO_UNWIND there). */' 'SECTIONS' '{' \
	  '  /DISCARD/ : { EXCLUDE_FILE(*crtbegin*.o *crtend*.o) *(.eh_frame)' \
	  '               *(.gcc_except_table .gcc_except_table.*) }' '}' 'INSERT AFTER .text;' > $@

static: static-deps $(UNWIND_LD)
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

demo: build ssh-deps
	@echo "building the demo (a fake Hetzner API on this machine; no account needed)..."
	$(CARGO) run --quiet --release --example demo -- target/release/pegasus

playground: build ssh-deps
	@echo "building the playground (a fake Hetzner API on this machine; no account needed)..."
	$(CARGO) run --quiet --release --example playground -- --pegasus target/release/pegasus \
	  $(if $(SSH_PORT),--ssh-port $(SSH_PORT)) $(foreach z,$(ZONES),--zone $(z))

bench: static ssh-deps
	$(CARGO) run --quiet --release --target $(MUSL) --example bench -- $(STATIC_BIN)

# Missing tools are installed (Rust targets, the pinned Zig and cargo-zigbuild, qemu for
# dist-check); when that cannot be done, the error says what to install.
dist-deps: static-deps
	@for t in $(ARM_MUSL) $(MAC_X86) $(MAC_ARM); do \
	  rustup target list --installed 2>/dev/null | grep -qx "$$t" || rustup target add "$$t" || \
	  { echo "error: cannot add the $$t target; install rustup (https://rustup.rs) and run: rustup target add $$t" >&2; exit 1; }; \
	done
	@if [ "$$($(ZIG_PATH)/cargo-zigbuild --version 2>/dev/null)" != "cargo-zigbuild $(ZIGBUILD_VERSION)" ] || \
	    ! $(ZIG_PATH)/python3 -c 'import ziglang, importlib.metadata as m; assert m.version("ziglang") == "$(ZIGLANG_VERSION)"' 2>/dev/null; then \
	  echo "installing ziglang $(ZIGLANG_VERSION) and cargo-zigbuild $(ZIGBUILD_VERSION) into $(DIST_TOOLS)/venv"; \
	  { python3 -m venv $(DIST_TOOLS)/venv && \
	    $(ZIG_PATH)/pip install --quiet --disable-pip-version-check ziglang==$(ZIGLANG_VERSION) cargo-zigbuild==$(ZIGBUILD_VERSION); } || \
	  { echo "error: cannot install Zig; needs python3 with venv and pip (Debian: apt-get install python3-venv python3-pip), then: pip install ziglang==$(ZIGLANG_VERSION) cargo-zigbuild==$(ZIGBUILD_VERSION)" >&2; exit 1; }; \
	fi
	@command -v tar >/dev/null && command -v gzip >/dev/null && command -v sha256sum >/dev/null || \
	  { echo "error: tar, gzip and sha256sum are needed (Debian: apt-get install tar gzip coreutils)" >&2; exit 1; }

# One archive per target: the binary, README.md and LICENSE in pegasus-VERSION-TARGET/.
dist: dist-deps static
	@for t in $(ARM_MUSL) $(MAC_X86) $(MAC_ARM); do \
	  echo "building $$t"; \
	  case $$t in $(MAC_ARM)) min=$(MACOS_MIN_$(MAC_ARM));; $(MAC_X86)) min=$(MACOS_MIN_$(MAC_X86));; *) min=;; esac; \
	  env PATH="$(ZIG_PATH):$$PATH" $${min:+MACOSX_DEPLOYMENT_TARGET=$$min} \
	    $(ZIG_PATH)/cargo-zigbuild zigbuild --release --locked --target $$t --bin pegasus || exit 1; \
	done
	@rm -rf dist target/dist && mkdir -p dist target/dist
	@for t in $(DIST_TARGETS); do \
	  name=pegasus-$(VERSION)-$$t; stage=target/dist/$$name; \
	  mkdir -p $$stage && cp target/$$t/release/pegasus README.md LICENSE $$stage/ && \
	  chmod 0755 $$stage/pegasus && chmod 0644 $$stage/README.md $$stage/LICENSE && \
	  touch -d @$(SOURCE_DATE_EPOCH) $$stage $$stage/* && \
	  tar --sort=name --format=gnu --owner=0 --group=0 --numeric-owner \
	    --mtime=@$(SOURCE_DATE_EPOCH) -C target/dist -cf - $$name | gzip -n -9 > dist/$$name.tar.gz || exit 1; \
	  printf '%-28s %9d bytes  dist/%s.tar.gz\n' $$t $$(stat -c %s $$stage/pegasus) $$name; \
	done
	@cd dist && sha256sum *.tar.gz > SHA256SUMS && echo "wrote dist/SHA256SUMS"

# What can be checked here of each archive. The Linux aarch64 binary runs under qemu
# through the smoke program; the macOS ones are inspected (tests/tools/macho_check.py).
dist-check: dist-check-deps
	cd dist && sha256sum -c SHA256SUMS
	@rm -rf target/dist-check && mkdir -p target/dist-check
	@for t in $(DIST_TARGETS); do \
	  tar -xzf dist/pegasus-$(VERSION)-$$t.tar.gz -C target/dist-check || exit 1; \
	  for f in pegasus README.md LICENSE; do \
	    [ -f target/dist-check/pegasus-$(VERSION)-$$t/$$f ] || { echo "FAIL $$t: $$f missing from the archive" >&2; exit 1; }; \
	  done; \
	  size=$$(stat -c %s target/dist-check/pegasus-$(VERSION)-$$t/pegasus); \
	  if [ $$size -le $(SIZE_BUDGET) ]; then \
	    printf 'ok   %-28s %9d bytes, %7d under 2.0 MiB (%s%%)\n' $$t $$size $$(($(SIZE_BUDGET) - size)) \
	      $$(awk "BEGIN { printf \"%.1f\", 100 * ($(SIZE_BUDGET) - $$size) / $(SIZE_BUDGET) }"); \
	  else printf 'FAIL %-28s %9d bytes, %7d over 2.0 MiB (%d bytes)\n' $$t $$size $$((size - $(SIZE_BUDGET))) $(SIZE_BUDGET); fail=1; fi; \
	done; [ -z "$$fail" ] || { echo "error: a binary is over the 2.0 MiB budget (SPEC §1)" >&2; exit 1; }
	$(CARGO) run --quiet --release --example smoke -- --machine x86-64 \
	  target/dist-check/pegasus-$(VERSION)-$(MUSL)/pegasus
	$(CARGO) run --quiet --release --example smoke -- --runner qemu-aarch64-static --machine aarch64 \
	  target/dist-check/pegasus-$(VERSION)-$(ARM_MUSL)/pegasus
	python3 tests/tools/macho_check.py --tamper-test \
	  target/dist-check/pegasus-$(VERSION)-$(MAC_X86)/pegasus x86_64 $(MACOS_MIN_$(MAC_X86))
	python3 tests/tools/macho_check.py --tamper-test \
	  target/dist-check/pegasus-$(VERSION)-$(MAC_ARM)/pegasus arm64 $(MACOS_MIN_$(MAC_ARM))

dist-check-deps:
	@command -v qemu-aarch64-static >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get install -y qemu-user-static >/dev/null 2>&1 || { $$SUDO apt-get update >/dev/null && $$SUDO apt-get install -y qemu-user-static >/dev/null; } ; \
	  fi; \
	  command -v qemu-aarch64-static >/dev/null 2>&1 || { echo "error: qemu-aarch64-static not found; install qemu-user-static (Debian/Ubuntu: apt-get install qemu-user-static)" >&2; exit 1; }; }
	@command -v python3 >/dev/null 2>&1 || { echo "error: python3 is needed for the macOS checks (Debian: apt-get install python3)" >&2; exit 1; }

clean:
	$(CARGO) clean
