//! The safety net: the edited text is parsed again, and its events must be exactly the old
//! ones except the replaced scalars (new value, possibly new quoting) and the one appended
//! scalar. The comparison streams: nothing is cloned or collected.

use yaml_rust2::parser::{Event, MarkedEventReceiver};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// What the new event stream must look like, relative to the old one.
pub(crate) struct Expectation<'a> {
    pub old: &'a [Event],
    /// (index of the old scalar event, its new value, its new style).
    pub replaced: Vec<(usize, &'a str, TScalarStyle)>,
    /// (index of the old event the new scalar comes before, its value, its style).
    pub appended: Option<(usize, &'a str, TScalarStyle)>,
}

/// Parses `text` (already ERB-masked) and checks its events against `expect`.
pub(crate) fn verify(text: &str, expect: &Expectation<'_>) -> bool {
    let mut checker = Checker {
        expect,
        next: 0,
        inserted: false,
        ok: true,
    };
    pegasus_yaml_events::load(text, &mut checker).is_ok() && checker.finished()
}

struct Checker<'e, 'a> {
    expect: &'e Expectation<'a>,
    /// Index of the next old event to compare with.
    next: usize,
    inserted: bool,
    ok: bool,
}

impl MarkedEventReceiver for Checker<'_, '_> {
    fn on_event(&mut self, event: Event, _mark: Marker) {
        self.ok = self.ok && self.matches(&event);
    }
}

impl Checker<'_, '_> {
    fn matches(&mut self, event: &Event) -> bool {
        if let Some((at, value, style)) = self.expect.appended {
            if at == self.next && !self.inserted {
                self.inserted = true;
                return matches!(event, Event::Scalar(v, s, 0, None) if v == value && *s == style);
            }
        }
        let index = self.next;
        let Some(old) = self.expect.old.get(index) else {
            return false;
        };
        self.next += 1;
        let replaced = self.expect.replaced.iter().find(|(i, ..)| *i == index);
        match (replaced, old, event) {
            (None, ..) => old == event,
            (
                Some((_, value, style)),
                Event::Scalar(_, _, anchor, tag),
                Event::Scalar(v, s, a, t),
            ) => v == value && s == style && a == anchor && t == tag,
            _ => false,
        }
    }

    fn finished(&self) -> bool {
        self.ok
            && self.next == self.expect.old.len()
            && (self.expect.appended.is_none() || self.inserted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(text: &str) -> Vec<Event> {
        struct Sink(Vec<Event>);
        impl MarkedEventReceiver for Sink {
            fn on_event(&mut self, event: Event, _mark: Marker) {
                self.0.push(event);
            }
        }
        let mut sink = Sink(Vec::new());
        let parsed = yaml_rust2::parser::Parser::new_from_str(text).load(&mut sink, true);
        assert!(parsed.is_ok(), "{parsed:?}");
        sink.0
    }

    fn expect<'a>(
        old: &'a [Event],
        replaced: Vec<(usize, &'a str, TScalarStyle)>,
    ) -> Expectation<'a> {
        Expectation {
            old,
            replaced,
            appended: None,
        }
    }

    #[test]
    fn accepts_exactly_the_intended_replacement() {
        let old = events("a: [1.2.3.4, x]\n");
        // events: StreamStart DocStart MapStart "a" SeqStart "1.2.3.4" "x" …
        let plain = expect(&old, vec![(5, "9.9.9.9", TScalarStyle::Plain)]);
        assert!(verify("a: [9.9.9.9, x]\n", &plain));
        assert!(!verify("a: [9.9.9.9, y]\n", &plain));
        assert!(!verify("a: [1.2.3.4, x]\n", &plain));
        assert!(!verify("a: ['9.9.9.9', x]\n", &plain));
        assert!(!verify("a: [9.9.9.9, x]\nb: 1\n", &plain));
        assert!(!verify("a: [9.9.9.9, x\n", &plain));
    }

    #[test]
    fn accepts_exactly_the_intended_append() {
        let old = events("a:\n  - x\n  - y\nb: 1\n");
        let end = old
            .iter()
            .position(|e| *e == Event::SequenceEnd)
            .unwrap_or(0);
        let mut appended = expect(&old, Vec::new());
        appended.appended = Some((end, "n", TScalarStyle::Plain));
        assert!(verify("a:\n  - x\n  - y\n  - n\nb: 1\n", &appended));
        assert!(!verify("a:\n  - x\n  - y\nb: 1\n", &appended));
        assert!(!verify("a:\n  - x\n  - n\n  - y\nb: 1\n", &appended));
        assert!(!verify("a:\n  - x\n  - y\n  - \"n\"\nb: 1\n", &appended));
    }
}
