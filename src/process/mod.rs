//! The process layer (SPEC §8): signals, the waits a signal cuts short, and the terminal
//! state they restore. Everything here reaches the OS through `libc`.

pub mod child;
pub mod signals;
pub mod terminal;
pub mod wait;
