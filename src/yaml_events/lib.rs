//! yaml-rust2's event parser behind one function that is not generic.
//!
//! yaml-rust2's scanner and parser are generic (over the input and the receiver), so they
//! are compiled in the crate that calls them. Called from pegasus, they would be built at
//! pegasus's `opt-level = "z"`, where the scanner's small per-character functions are not
//! inlined; called through this crate, which the root `Cargo.toml` builds at `opt-level =
//! 2`, they are compiled here, for speed. The Kamal edit parses the file twice (to edit
//! and to verify); see the README ("Performance") for what this changed.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, ScanError};

/// Parses every document of `text`, handing each event and its start to `receiver`.
pub fn load(text: &str, receiver: &mut dyn MarkedEventReceiver) -> Result<(), ScanError> {
    struct Forward<'r>(&'r mut dyn MarkedEventReceiver);
    impl MarkedEventReceiver for Forward<'_> {
        fn on_event(&mut self, event: Event, mark: Marker) {
            self.0.on_event(event, mark);
        }
    }
    Parser::new_from_str(text).load(&mut Forward(receiver), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Sink(Vec<(Event, usize, usize)>);

    impl MarkedEventReceiver for Sink {
        fn on_event(&mut self, event: Event, mark: Marker) {
            self.0.push((event, mark.line(), mark.col()));
        }
    }

    /// The events and their positions are yaml-rust2's own, every document included; an
    /// error is its error.
    #[test]
    fn forwards_what_the_parser_sees() {
        let text = "servers:\n  web: [1.2.3.4, 'b']\n---\nproxy: {ssl: true}\n";
        let (mut ours, mut theirs) = (Sink::default(), Sink::default());
        load(text, &mut ours).unwrap();
        Parser::new_from_str(text).load(&mut theirs, true).unwrap();
        assert_eq!(ours.0, theirs.0);
        assert_eq!(
            ours.0
                .iter()
                .filter(|e| e.0 == Event::DocumentStart)
                .count(),
            2
        );

        let bad = "a: [1, 2\n";
        let ours = load(bad, &mut Sink::default()).unwrap_err();
        let theirs = Parser::new_from_str(bad)
            .load(&mut Sink::default(), true)
            .unwrap_err();
        assert_eq!(ours, theirs);
    }
}
