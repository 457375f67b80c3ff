//! The shipped binaries link no unwinder and no backtrace symbolizer (built with
//! `--cfg pegasus_no_unwinder`, which the Makefile passes for the four release targets).
//!
//! pegasus is built with `panic = "abort"`: nothing ever unwinds. The only code left that
//! walks the stack is the backtrace std's panic message prints under `RUST_BACKTRACE`, and
//! it has nothing to show in these binaries: they are stripped (no names to print) and the
//! Linux ones carry no unwind tables (Makefile, `NO_UNWIND`). Yet that path alone links
//! LLVM's libunwind (about 54 KB on x86_64 Linux) and std's DWARF symbolizer (`gimli`,
//! `addr2line`, `miniz_oxide`, `rustc_demangle`: about 170 KB).
//!
//! These definitions of the unwinder's entry points are linked instead of libunwind's:
//! `_Unwind_Backtrace` reports an empty stack (a panic prints its message and its
//! `file:line` as before, then aborts; under `RUST_BACKTRACE` the backtrace is empty), so
//! the symbolizer it would feed is unreachable and dropped at link time. The others are
//! only ever called on a frame during an unwind, which `panic = "abort"` never starts
//! (`_Unwind_RaiseException` is not linked at all): they abort.
//!
//! Measured on x86_64 Linux: 2,160,320 bytes without, 1,907,824 with (−252,496). Build
//! without the cfg (`cargo build --release`) for a binary with std's own backtraces.

use std::ffi::{c_int, c_void};

/// The unwinder's per-frame context: never created here, only named.
#[repr(C)]
pub struct Context {
    _opaque: [u8; 0],
}

/// `_Unwind_Trace_Fn`: called once per frame (never, here).
type TraceFn = extern "C" fn(*mut Context, *mut c_void) -> c_int;

/// `_URC_END_OF_STACK`.
const END_OF_STACK: c_int = 5;

/// An empty stack: the callback is never called.
#[unsafe(no_mangle)]
pub extern "C" fn _Unwind_Backtrace(_trace: TraceFn, _arg: *mut c_void) -> c_int {
    END_OF_STACK
}

/// Only called during an unwind, which never starts.
#[unsafe(no_mangle)]
pub extern "C" fn _Unwind_Resume(_exception: *mut c_void) -> ! {
    std::process::abort()
}

/// The frame accessors std's personality routine (and its backtrace) name: only called
/// on a frame, and there never is one.
macro_rules! no_frame {
    ($($name:ident($($arg:ty),*) $(-> $ret:ty)?;)*) => {$(
        #[unsafe(no_mangle)]
        pub extern "C" fn $name(_context: *mut Context $(, _: $arg)*) $(-> $ret)? {
            std::process::abort()
        }
    )*};
}

no_frame! {
    _Unwind_GetIP() -> usize;
    _Unwind_GetIPInfo(*mut c_int) -> usize;
    _Unwind_GetCFA() -> usize;
    _Unwind_GetLanguageSpecificData() -> *mut c_void;
    _Unwind_GetRegionStart() -> usize;
    _Unwind_GetTextRelBase() -> usize;
    _Unwind_GetDataRelBase() -> usize;
    _Unwind_SetGR(c_int, usize);
    _Unwind_SetIP(usize);
}
