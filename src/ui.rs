//! Everything the user sees and types: terminal detection, prompts, the spinner or
//! plain progress lines, colour, and writes that never panic.
//!
//! Results go to stdout; prompts, progress, notes and errors go to stderr (SPEC §8).

use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::observer::Observer;
use crate::process::terminal;

pub use crate::text::escape;

pub struct Ui {
    stdin_tty: bool,
    spin: bool,
    color_err: bool,
    color_out: bool,
    /// A mutex, not a RefCell: the API client (and so this observer) is shared by the
    /// preflight's threads.
    state: Mutex<Progress>,
}

#[derive(Default)]
struct Progress {
    spinner: Option<Spinner>,
    /// The step shown last, and when it started.
    step: Option<(String, Instant)>,
    /// When the whole wait started.
    started: Option<Instant>,
}

impl Ui {
    pub fn from_env() -> Ui {
        let stderr_tty = io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        Ui {
            stdin_tty: io::stdin().is_terminal(),
            spin: stderr_tty && !dumb,
            color_err: stderr_tty && !no_color && !dumb,
            color_out: io::stdout().is_terminal() && !no_color && !dumb,
            state: Mutex::new(Progress::default()),
        }
    }

    fn state(&self) -> MutexGuard<'_, Progress> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn stdin_is_terminal(&self) -> bool {
        self.stdin_tty
    }

    /// A line on stderr (the spinner is stopped first). Errors writing are ignored.
    pub fn note(&self, msg: &str) {
        self.stop_spinner();
        let _ = writeln!(io::stderr(), "{msg}");
    }

    pub fn warn(&self, msg: &str) {
        let label = self.paint_err("warning:", "33");
        self.note(&format!("{label} {msg}"));
    }

    pub fn error(&self, err: &Error) {
        let label = self.paint_err("error:", "31");
        self.note(&format!("{label} {err}"));
    }

    /// Colour for stderr text (the diff shown before a confirmation), when stderr is a
    /// terminal.
    pub fn paint_err(&self, text: &str, code: &str) -> String {
        paint(self.color_err, text, code)
    }

    /// Colour for stdout text (diff lines), when stdout is a terminal.
    pub fn paint_out(&self, text: &str, code: &str) -> String {
        paint(self.color_out, text, code)
    }

    /// Show the state of a wait: a spinner with the step, percentage and elapsed seconds
    /// on a terminal; one plain line per step otherwise.
    pub fn progress(&self, title: &str, step: &str, percent: Option<u32>) {
        let mut st = self.state();
        let now = Instant::now();
        st.started.get_or_insert(now);
        let line = format!("{title}: {step}");
        let new_step = st.step.as_ref().is_none_or(|(s, _)| *s != line);
        if !new_step {
            return;
        }
        st.step = Some((line.clone(), now));
        if !self.spin {
            let _ = writeln!(io::stderr(), "{line} ...");
            return;
        }
        // The spinner is restarted only when the step changes; its line is cut to the
        // terminal's width (frame and space included), so it never wraps.
        let pct = percent.map(|p| format!(" {p}%")).unwrap_or_default();
        let width = terminal::width().saturating_sub(3);
        let msg: String = format!("{line}{pct}").chars().take(width).collect();
        if let Some(s) = st.spinner.take() {
            s.stop();
        }
        st.spinner = Spinner::start(msg);
    }

    /// End a wait: stop the spinner and clear its line; say how long it took.
    pub fn progress_done(&self, title: &str, outcome: &str) {
        let elapsed = {
            let mut st = self.state();
            let e = st.started.take().map(|s| s.elapsed());
            st.step = None;
            e
        };
        let secs = elapsed
            .map(|e| format!(" after {}s", e.as_secs()))
            .unwrap_or_default();
        self.note(&format!("{title}: {outcome}{secs}"));
    }

    /// End a wait with a line that says its own time ("ready after 47s (...)").
    pub fn progress_end(&self, title: &str, outcome: &str) {
        {
            let mut st = self.state();
            st.started = None;
            st.step = None;
        }
        self.note(&format!("{title}: {outcome}"));
    }

    fn stop_spinner(&self) {
        let spinner = self.state().spinner.take();
        if let Some(s) = spinner {
            s.stop();
        }
    }

    /// Ask a question and read one answer. On a terminal it is asked interactively; from
    /// a pipe it is one line of stdin. `None` at end of input.
    pub fn ask(&self, question: &str) -> Result<Option<String>> {
        self.stop_spinner();
        // Blocked on input there is no safe point: a signal ends the program at once.
        let _now = crate::process::signals::Immediate::new();
        let _ = write!(io::stderr(), "{question}");
        let _ = io::stderr().flush();
        let answer = read_line();
        self.end_answer_line(&answer);
        answer
    }

    /// After an answer: a piped one was not echoed, and Ctrl-D on a terminal leaves the
    /// cursor after the question; either way the next message starts on its own line.
    fn end_answer_line(&self, answer: &Result<Option<String>>) {
        if !self.stdin_tty || matches!(answer, Ok(None)) {
            let _ = writeln!(io::stderr());
        }
    }

    /// Like [`ask`](Self::ask), but the answer is not echoed on a terminal.
    pub fn ask_secret(&self, question: &str) -> Result<Option<String>> {
        self.stop_spinner();
        if !self.stdin_tty {
            let _now = crate::process::signals::Immediate::new();
            let _ = write!(io::stderr(), "{question}");
            let _ = io::stderr().flush();
            let answer = read_line();
            self.end_answer_line(&answer);
            return answer;
        }
        // Echo goes off before the question shows, so nothing typed is ever echoed.
        let guard = terminal::EchoOff::new();
        let _ = write!(io::stderr(), "{question}");
        let _ = io::stderr().flush();
        let answer = read_line();
        drop(guard);
        let _ = writeln!(io::stderr());
        answer
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        self.stop_spinner();
    }
}

impl Observer for Ui {
    fn retrying(&self, reason: &str, wait: Duration) {
        self.note(&format!("{reason}; {}", retry_words(wait)));
    }
}

/// "trying again in 1.5s": tenths below 10 s, whole seconds above, rounded to the
/// nearest (halves up). In integers: float formatting would add 12 KB to the binary.
fn retry_words(wait: Duration) -> String {
    let ms = wait.as_millis();
    if ms < 10_000 {
        let tenths = (ms + 50) / 100;
        format!("trying again in {}.{}s", tenths / 10, tenths % 10)
    } else {
        format!("trying again in {}s", (ms + 500) / 1000)
    }
}

fn paint(on: bool, text: &str, code: &str) -> String {
    if on {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// One line of stdin without its line ending; `None` at end of input. Reads through
/// std's shared buffer, so successive prompts read successive lines.
fn read_line() -> Result<Option<String>> {
    read_line_from(&mut io::stdin().lock())
}

/// The longest answer read from stdin (SPEC §8), without its line ending.
pub const MAX_ANSWER: usize = 64 * 1024;

/// One line of `input`, reading at most [`MAX_ANSWER`] bytes and its line ending: a
/// longer line is an error, and nothing after its first 64 KiB is read (`< /dev/zero`
/// ends at once, in bounded memory).
fn read_line_from(input: &mut impl BufRead) -> Result<Option<String>> {
    let mut line = String::new();
    // Room for the answer and its `\r\n`: anything longer cannot be a valid answer.
    let limit = (MAX_ANSWER + 2) as u64;
    match input.by_ref().take(limit).read_line(&mut line) {
        Ok(0) => Ok(None),
        Ok(_) => {
            let answer = line.trim_end_matches(['\n', '\r']);
            if answer.len() > MAX_ANSWER || (!line.ends_with('\n') && line.len() as u64 >= limit) {
                return Err(Error::Failed(
                    "the answer read from stdin is longer than 64 KiB; pegasus stopped reading"
                        .into(),
                ));
            }
            Ok(Some(answer.to_string()))
        }
        Err(e) => Err(Error::io("cannot read from stdin", e)),
    }
}

/// Print to stdout. A closed pipe (`| head`) is not an error worth a message: the
/// caller ends quietly.
pub fn out(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// The spinner, drawn by a small thread of pegasus's own. The `spinners` crate's thread
/// calls `.expect()` on every write, so a terminal that goes away (an SSH session that
/// drops) would abort the program (`panic = "abort"`) with no facts printed; and the crate
/// keeps its frames private. This one draws the same "Dots" frames every 80 ms and stops
/// drawing at the first failed write; the run goes on.
struct Spinner {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

/// The "Dots" frames (as the `spinners` crate draws them), one every [`FRAME_EVERY`].
const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const FRAME_EVERY: Duration = Duration::from_millis(80);
/// Set at the first failed write to the terminal: no spinner is drawn again.
static TERMINAL_GONE: AtomicBool = AtomicBool::new(false);

impl Spinner {
    /// `None` when the terminal is gone or no thread can be made (then there is none).
    fn start(message: String) -> Option<Spinner> {
        if TERMINAL_GONE.load(Ordering::SeqCst) {
            return None;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let theirs = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("pegasus-spinner".into())
            .spawn(move || draw(&message, &theirs))
            .ok()?;
        Some(Spinner { stop, thread })
    }

    /// Stop drawing and clear the line (a failure to clear is dropped).
    fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.thread().unpark();
        let _ = self.thread.join();
        if !TERMINAL_GONE.load(Ordering::SeqCst) {
            let mut err = io::stderr().lock();
            let _ = err.write_all(b"\r\x1b[2K");
            let _ = err.flush();
        }
        terminal::line_drawn(false);
    }
}

fn draw(message: &str, stop: &AtomicBool) {
    for frame in FRAMES.iter().cycle() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let line = format!("\r{frame} {message}");
        let written = {
            let mut err = io::stderr().lock();
            err.write_all(line.as_bytes()).and_then(|()| err.flush())
        };
        if written.is_err() {
            // EIO from a hung-up terminal, EPIPE, EBADF: stop drawing, keep running.
            TERMINAL_GONE.store(true, Ordering::SeqCst);
            return;
        }
        terminal::line_drawn(true);
        std::thread::park_timeout(FRAME_EVERY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_one_line_of_at_most_64_kib() {
        let mut input = io::Cursor::new(b"2\r\nnext\n".to_vec());
        assert_eq!(read_line_from(&mut input).unwrap().as_deref(), Some("2"));
        assert_eq!(read_line_from(&mut input).unwrap().as_deref(), Some("next"));
        assert_eq!(read_line_from(&mut input).unwrap(), None);

        let mut exact = vec![b'a'; MAX_ANSWER];
        exact.extend_from_slice(b"\r\n");
        let got = read_line_from(&mut io::Cursor::new(exact))
            .unwrap()
            .unwrap();
        assert_eq!(got.len(), MAX_ANSWER);
        let unterminated = vec![b'a'; MAX_ANSWER];
        let got = read_line_from(&mut io::Cursor::new(unterminated));
        assert_eq!(got.unwrap().unwrap().len(), MAX_ANSWER);
    }

    #[test]
    fn a_longer_answer_is_an_error_and_the_rest_is_not_read() {
        let mut input = io::Cursor::new(vec![0u8; 10 * MAX_ANSWER]);
        let e = read_line_from(&mut input).unwrap_err().to_string();
        assert!(e.contains("longer than 64 KiB"), "{e}");
        assert_eq!(input.position(), (MAX_ANSWER + 2) as u64);
        let mut one_more = vec![b'a'; MAX_ANSWER + 1];
        one_more.push(b'\n');
        assert!(read_line_from(&mut io::Cursor::new(one_more)).is_err());
    }

    #[test]
    fn retry_waits_in_words() {
        assert_eq!(
            retry_words(Duration::from_millis(750)),
            "trying again in 0.8s"
        );
        assert_eq!(retry_words(Duration::from_secs(60)), "trying again in 60s");
        for (ms, words) in [
            (0, "0.0s"),
            (1049, "1.0s"),
            (9949, "9.9s"),
            (9950, "10.0s"),
            (10_000, "10s"),
            (29_499, "29s"),
        ] {
            let got = retry_words(Duration::from_millis(ms));
            assert_eq!(got, format!("trying again in {words}"), "{ms} ms");
        }
    }
}
