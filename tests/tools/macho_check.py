#!/usr/bin/env python3
"""`make dist-check`: what can be checked of a macOS binary on a Linux machine.

Usage: macho_check.py [--tamper-test] BINARY ARCH MINOS
  ARCH   x86_64 or arm64: the CPU the binary must be for
  MINOS  the minimum macOS version it must declare (e.g. 11.0)
  --tamper-test  also flip one bit of the signed code in a copy (in memory) and require
                 the signature check to fail on it, so a check that passes everything
                 cannot go unnoticed

Checks, one line each (`ok` or `FAIL`), then exit 1 if any failed:
  * a thin 64-bit Mach-O executable for ARCH (not a fat file, not a library);
  * the minimum macOS version (LC_BUILD_VERSION, else LC_VERSION_MIN_MACOSX) is MINOS;
  * every linked library (LC_LOAD_DYLIB and its weak/re-export/lazy/upward kinds) is a
    system one, under /usr/lib/ or /System/, so the binary needs nothing installed;
  * the code signature (LC_CODE_SIGNATURE): the SuperBlob and its CodeDirectory parse,
    the CodeDirectory covers the file up to the signature, every page hash (SHA-256 or
    SHA-1, page size from the CodeDirectory) matches the file as it is, and so do the
    hashes of the requirements/entitlements blobs present. Apple Silicon kills a binary
    whose page hashes do not match (e.g. stripped after it was signed), so for arm64 a
    signature is required; for x86_64 one is checked when present.

Standard library only (struct, hashlib).
"""

import hashlib
import struct
import sys

MH_MAGIC_64 = 0xFEEDFACF
FAT_MAGICS = (0xCAFEBABE, 0xCAFEBABF)
MH_EXECUTE = 2
MH_PIE = 0x200000
CPU = {"x86_64": 0x01000007, "arm64": 0x0100000C}

LC_REQ_DYLD = 0x80000000
LC_LOAD_DYLIB = 0xC
LC_LOAD_WEAK_DYLIB = 0x18 | LC_REQ_DYLD
LC_REEXPORT_DYLIB = 0x1F | LC_REQ_DYLD
LC_LAZY_LOAD_DYLIB = 0x20
LC_LOAD_UPWARD_DYLIB = 0x23 | LC_REQ_DYLD
DYLIB_COMMANDS = {
    LC_LOAD_DYLIB,
    LC_LOAD_WEAK_DYLIB,
    LC_REEXPORT_DYLIB,
    LC_LAZY_LOAD_DYLIB,
    LC_LOAD_UPWARD_DYLIB,
}
LC_CODE_SIGNATURE = 0x1D
LC_VERSION_MIN_MACOSX = 0x24
LC_BUILD_VERSION = 0x32
PLATFORM_MACOS = 1

CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSMAGIC_CODEDIRECTORY = 0xFADE0C02
CSSLOT_CODEDIRECTORY = 0
CS_ADHOC = 0x2
CS_LINKER_SIGNED = 0x20000
HASHES = {1: ("sha1", 20), 2: ("sha256", 32), 3: ("sha256", 32)}  # 3: sha256 truncated
# Special slots whose content is a blob of the SuperBlob (slot -n is blob type n).
BLOB_SLOTS = {2: "requirements", 5: "entitlements", 7: "DER entitlements"}


class Bad(Exception):
    pass


def version(v):
    """xxxx.yy.zz nibbles, as Mach-O encodes versions."""
    major, minor, patch = v >> 16, (v >> 8) & 0xFF, v & 0xFF
    return f"{major}.{minor}" + (f".{patch}" if patch else "")


def u32(data, off, fmt="<I"):
    if off < 0 or off + 4 > len(data):
        raise Bad(f"truncated at offset {off}")
    return struct.unpack_from(fmt, data, off)[0]


def load_commands(data):
    if len(data) < 32:
        raise Bad("too short for a Mach-O header")
    magic = struct.unpack_from("<I", data, 0)[0]
    if struct.unpack_from(">I", data, 0)[0] in FAT_MAGICS:
        raise Bad("a fat (universal) file, not a thin binary")
    if magic != MH_MAGIC_64:
        raise Bad(f"not a 64-bit little-endian Mach-O file (magic {magic:#x})")
    cputype, _sub, filetype, ncmds, sizeofcmds, flags, _res = struct.unpack_from(
        "<iIIIIII", data, 4
    )
    cmds = []
    off = 32
    end = 32 + sizeofcmds
    if end > len(data):
        raise Bad("load commands run past the end of the file")
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, off) if off + 8 <= end else (0, 0)
        if size < 8 or off + size > end:
            raise Bad(f"malformed load command at offset {off}")
        cmds.append((cmd, off, size))
        off += size
    return cputype & 0xFFFFFFFF, filetype, flags, cmds


def check_header(cputype, filetype, flags, arch):
    names = {v: k for k, v in CPU.items()}
    got = names.get(cputype, f"cputype {cputype:#x}")
    if cputype != CPU[arch]:
        raise Bad(f"built for {got}, want {arch}")
    if filetype != MH_EXECUTE:
        raise Bad(f"file type {filetype}, want an executable (MH_EXECUTE)")
    pie = "PIE" if flags & MH_PIE else "not PIE"
    return f"thin Mach-O 64-bit executable, {got}, {pie}"


def check_minos(data, cmds, want):
    found = []
    for cmd, off, _size in cmds:
        if cmd == LC_BUILD_VERSION:
            platform, minos, sdk = struct.unpack_from("<III", data, off + 8)
            if platform != PLATFORM_MACOS:
                raise Bad(f"LC_BUILD_VERSION platform {platform}, want macOS ({PLATFORM_MACOS})")
            found.append(("LC_BUILD_VERSION", minos, sdk))
        elif cmd == LC_VERSION_MIN_MACOSX:
            minos, sdk = struct.unpack_from("<II", data, off + 8)
            found.append(("LC_VERSION_MIN_MACOSX", minos, sdk))
    if not found:
        raise Bad("no LC_BUILD_VERSION or LC_VERSION_MIN_MACOSX: minimum macOS unknown")
    if len(found) > 1:
        raise Bad(f"{len(found)} minimum-version commands, want one")
    name, minos, sdk = found[0]
    if version(minos) != want:
        raise Bad(f"{name} minos {version(minos)}, want {want}")
    return f"{name} minos {version(minos)} (sdk {version(sdk)})"


def check_dylibs(data, cmds):
    libs = []
    for cmd, off, size in cmds:
        if cmd in DYLIB_COMMANDS:
            name_off = u32(data, off + 8)
            raw = data[off + name_off : off + size]
            libs.append(raw.split(b"\0", 1)[0].decode("utf-8", "replace"))
    if not libs:
        raise Bad("links no library at all (a macOS binary needs libSystem)")
    foreign = [n for n in libs if not n.startswith(("/usr/lib/", "/System/"))]
    if foreign:
        raise Bad(f"links non-system libraries: {', '.join(foreign)}")
    return ", ".join(libs)


def check_signature(data, cmds, arch):
    sig = [(off, size) for cmd, off, size in cmds if cmd == LC_CODE_SIGNATURE]
    if not sig:
        if arch == "arm64":
            raise Bad("no LC_CODE_SIGNATURE: Apple Silicon refuses unsigned binaries")
        return "unsigned (allowed on x86_64)"
    dataoff, datasize = struct.unpack_from("<II", data, sig[0][0] + 8)
    if dataoff + datasize > len(data):
        raise Bad(f"signature at {dataoff}+{datasize} runs past the end ({len(data)} bytes)")
    be = lambda o: u32(data, o, ">I")  # noqa: E731 - code signing structures are big-endian
    if be(dataoff) != CSMAGIC_EMBEDDED_SIGNATURE:
        raise Bad(f"signature magic {be(dataoff):#x}, want an embedded SuperBlob")
    length, count = be(dataoff + 4), be(dataoff + 8)
    if length > datasize:
        raise Bad("SuperBlob longer than the signature area")
    blobs = {}
    for i in range(count):
        btype, boff = be(dataoff + 12 + 8 * i), be(dataoff + 16 + 8 * i)
        blobs[btype] = dataoff + boff
    if CSSLOT_CODEDIRECTORY not in blobs:
        raise Bad("SuperBlob has no CodeDirectory")
    cd = blobs[CSSLOT_CODEDIRECTORY]
    if be(cd) != CSMAGIC_CODEDIRECTORY:
        raise Bad("CodeDirectory magic is wrong")
    (cd_len, cd_version, cd_flags, hash_off, ident_off, n_special, n_code, code_limit) = (
        struct.unpack_from(">IIIIIIII", data, cd + 4)
    )
    hash_size, hash_type, _platform, page_log2 = struct.unpack_from(">BBBB", data, cd + 36)
    if hash_type not in HASHES:
        raise Bad(f"unknown hash type {hash_type}")
    algo, size = HASHES[hash_type]
    if hash_size != size and hash_type != 3:
        raise Bad(f"hash size {hash_size} for {algo}")
    if code_limit != dataoff:
        raise Bad(f"signature covers {code_limit} bytes, but the code runs to {dataoff}")
    page = 1 << page_log2 if page_log2 else code_limit
    want_slots = (code_limit + page - 1) // page
    if n_code != want_slots:
        raise Bad(f"{n_code} page hashes for {want_slots} pages")
    bad = []
    for i in range(n_code):
        chunk = data[i * page : min((i + 1) * page, code_limit)]
        got = hashlib.new(algo, chunk).digest()[:hash_size]
        stored = data[cd + hash_off + i * hash_size : cd + hash_off + (i + 1) * hash_size]
        if got != stored:
            bad.append(i)
    if bad:
        where = ", ".join(f"{i} (offset {i * page})" for i in bad[:5])
        raise Bad(f"{len(bad)} of {n_code} page hashes do not match: page {where}")
    for slot, what in BLOB_SLOTS.items():
        if slot > n_special:
            continue
        stored = data[cd + hash_off - slot * hash_size : cd + hash_off - (slot - 1) * hash_size]
        if slot in blobs:
            b = blobs[slot]
            blob = data[b : b + be(b + 4)]
            if hashlib.new(algo, blob).digest()[:hash_size] != stored:
                raise Bad(f"the {what} blob does not match its hash in the CodeDirectory")
        elif stored.strip(b"\0"):
            raise Bad(f"the CodeDirectory hashes a {what} blob that is not there")
    ident = data[cd + ident_off : cd + cd_len].split(b"\0", 1)[0].decode("utf-8", "replace")
    kinds = [k for k, bit in (("ad-hoc", CS_ADHOC), ("linker-signed", CS_LINKER_SIGNED)) if cd_flags & bit]
    return (
        f"{' '.join(kinds) or 'signed'} ({ident}), CodeDirectory v{cd_version:#x}, "
        f"{n_code} {algo} page hashes of {page} bytes match"
    )


def run_checks(data, arch, minos):
    """[(name, ok, detail)] for the four checks."""
    try:
        cputype, filetype, flags, cmds = load_commands(data)
    except (Bad, struct.error) as e:
        return [("format", False, str(e))]
    checks = [
        ("format", lambda: check_header(cputype, filetype, flags, arch)),
        ("minimum macOS", lambda: check_minos(data, cmds, minos)),
        ("linked libraries", lambda: check_dylibs(data, cmds)),
        ("code signature", lambda: check_signature(data, cmds, arch)),
    ]
    results = []
    for name, check in checks:
        try:
            results.append((name, True, check()))
        except (Bad, struct.error) as e:
            results.append((name, False, str(e)))
    return results


def tamper_test(data, arch, minos):
    """The signature check must notice one flipped bit in the signed code: flip one in
    the middle of the file's code (a copy in memory) and expect exactly that failure."""
    at = len(data) // 3
    bent = bytearray(data)
    bent[at] ^= 0x01
    results = dict((n, (ok, d)) for n, ok, d in run_checks(bytes(bent), arch, minos))
    ok, detail = results.get("code signature", (True, "no signature check ran"))
    if ok:
        return False, f"a bit flipped at offset {at} went unnoticed ({detail})"
    return True, f"a bit flipped at offset {at} is caught: {detail}"


def main(argv):
    args = [a for a in argv[1:] if a != "--tamper-test"]
    if len(args) != 3 or args[1] not in CPU:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    path, arch, minos = args
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        print(f"macho_check: {path}: {e.strerror}", file=sys.stderr)
        return 2
    print(f"Mach-O check of {path} ({len(data)} bytes)")
    results = run_checks(data, arch, minos)
    if "--tamper-test" in argv:
        signed = any(n == "code signature" and ok and not d.startswith("unsigned") for n, ok, d in results)
        if signed:
            results.append(("tampered copy", *tamper_test(data, arch, minos)))
    for name, ok, detail in results:
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    failed = sum(1 for _, ok, _ in results if not ok)
    print(f"macho_check: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
