//! The `pegasus` binary: everything happens in the library; this maps the outcome to
//! the process's exit code.

// The release targets' unwinder entry points (see the module; the Makefile sets the cfg).
#[cfg(pegasus_no_unwinder)]
mod no_unwinder;

fn main() {
    let code = pegasus::main_exit_code();
    // `exit` skips destructors: `main_exit_code` has already stopped any spinner.
    std::process::exit(code);
}
