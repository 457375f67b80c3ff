//! Actions: their state, and waiting for them (or for a server's status) on the
//! official CLI's poll schedule.

use std::time::{Duration, Instant};

use serde::Deserialize;

use super::values::{ActionStatus, ServerStatus};
use super::{Client, bad_answer};
use crate::error::Result;
use crate::text::Untrusted;

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Action {
    pub id: u64,
    #[serde(default)]
    pub command: Untrusted,
    pub status: ActionStatus,
    #[serde(default)]
    pub progress: u32,
    pub error: Option<ActionError>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ActionError {
    #[serde(default)]
    pub code: Untrusted,
    #[serde(default)]
    pub message: Untrusted,
}

impl Action {
    pub fn is_done(&self) -> bool {
        self.status == ActionStatus::Success
    }
    pub fn is_failed(&self) -> bool {
        self.status == ActionStatus::Error
    }
}

/// How a wait ended.
#[derive(Debug, PartialEq)]
pub enum Waited {
    Done,
    /// Why, in words (API text in it is escaped).
    Failed(String),
    TimedOut,
}

/// What one poll saw.
pub enum Poll {
    Done,
    Failed(String),
    /// Still running: the step (an action command or a status) and its progress in
    /// percent.
    Pending(Untrusted, Option<u32>),
}

impl super::Listed for Action {
    fn id(&self) -> u64 {
        self.id
    }
}

impl Client<'_> {
    /// The actions still running on a server (after a create without a clear answer).
    pub fn running_actions(&self, server_id: u64) -> Result<Vec<Action>> {
        self.get_all(
            &format!("/servers/{server_id}/actions?status=running"),
            "actions",
        )
    }

    /// The current state of these actions: one request per page of the listing (the
    /// API pages `GET /actions?id=…` like any other listing, 25 to a page by default).
    pub fn actions(&self, ids: &[u64]) -> Result<Vec<Action>> {
        let query: Vec<String> = ids.iter().map(|id| format!("id={id}")).collect();
        self.get_all(&format!("/actions?{}", query.join("&")), "actions")
    }

    /// Wait until every action in `ids` succeeded (or one failed), telling `progress`
    /// about each poll.
    pub fn wait_for_actions(
        &self,
        ids: &[u64],
        progress: &mut dyn FnMut(&Untrusted, Option<u32>),
    ) -> Result<Waited> {
        let mut probe = || -> Result<Poll> {
            let mut actions = self.actions(ids)?;
            crate::sort::sort_by_key(&mut actions, |a| a.id);
            if let Some(failed) = actions.iter().find(|a| a.is_failed()) {
                let why = match &failed.error {
                    Some(e) => format!(
                        "{} ({})",
                        Untrusted::new(e.message.raw().trim_end_matches('.')),
                        e.code
                    ),
                    None => "no reason given (unknown)".to_string(),
                };
                return Ok(Poll::Failed(format!("{} failed: {why}", failed.command)));
            }
            let missing = ids.iter().any(|id| !actions.iter().any(|a| a.id == *id));
            match actions.iter().find(|a| !a.is_done()) {
                Some(a) => Ok(Poll::Pending(a.command.clone(), Some(a.progress))),
                None if missing => Err(bad_answer("an action is missing from the answer")),
                None => Ok(Poll::Done),
            }
        };
        self.poll_until(&mut probe, progress)
    }

    /// Wait until the server runs (used when the create's actions are not known).
    pub fn wait_for_running(
        &self,
        id: u64,
        progress: &mut dyn FnMut(&Untrusted, Option<u32>),
    ) -> Result<Waited> {
        let mut probe = || -> Result<Poll> {
            match self.get_server(id)? {
                None => Ok(Poll::Failed("the server disappeared".into())),
                Some(s) if s.status == ServerStatus::Running => Ok(Poll::Done),
                Some(s) => Ok(Poll::Pending(Untrusted::new(s.status.word()), None)),
            }
        };
        self.poll_until(&mut probe, progress)
    }

    /// Wait until `GET /servers/{id}` says it is gone.
    pub fn wait_for_gone(
        &self,
        id: u64,
        progress: &mut dyn FnMut(&Untrusted, Option<u32>),
    ) -> Result<Waited> {
        // Usually gone at the first look, right after the delete action succeeded.
        if self.get_server(id)?.is_none() {
            return Ok(Waited::Done);
        }
        let mut probe = || -> Result<Poll> {
            match self.get_server(id)? {
                None => Ok(Poll::Done),
                Some(s) => Ok(Poll::Pending(Untrusted::new(s.status.word()), None)),
            }
        };
        self.poll_until(&mut probe, progress)
    }

    /// Poll on the schedule of [`next_poll_delay`] until done, failed or out of time.
    fn poll_until(
        &self,
        probe: &mut dyn FnMut() -> Result<Poll>,
        progress: &mut dyn FnMut(&Untrusted, Option<u32>),
    ) -> Result<Waited> {
        let timing = self.http.timing;
        let start = Instant::now();
        let mut polls = 0u32;
        let mut delay = timing.poll;
        loop {
            let left = timing.wait_limit.saturating_sub(start.elapsed());
            if left.is_zero() {
                return Ok(Waited::TimedOut);
            }
            // Interruptible: a signal ends the wait within milliseconds (SPEC §8).
            crate::process::signals::sleep(delay.min(left))?;
            polls += 1;
            let seen = probe()?;
            crate::process::signals::check()?;
            match seen {
                Poll::Done => return Ok(Waited::Done),
                Poll::Failed(why) => return Ok(Waited::Failed(why)),
                Poll::Pending(step, pct) => {
                    progress(&step, pct);
                    delay = next_poll_delay(polls, timing.poll, pct, start.elapsed());
                }
            }
        }
    }
}

/// The wait before the next poll, after `polls` polls. Never shorter than `base`
/// (500 ms: at most twice a second) and never longer than the official CLI's schedule
/// (`base` for the first 10 polls, then ×1.5 per poll up to 2 s). Within those bounds,
/// the action's own progress is used: when it says the end is near, poll at `base`.
pub fn next_poll_delay(
    polls: u32,
    base: Duration,
    progress: Option<u32>,
    elapsed: Duration,
) -> Duration {
    let official = if polls < 10 {
        base
    } else {
        let grown = base.mul_f64(1.5f64.powi((polls - 9).min(20) as i32));
        grown.min(Duration::from_secs(2)).max(base)
    };
    match progress {
        Some(p) if p > 0 && p < 100 => {
            // Time left if progress keeps its average pace so far.
            let left = elapsed.mul_f64(f64::from(100 - p) / f64::from(p));
            left.clamp(base, official)
        }
        _ => official,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_delay_stays_within_bounds() {
        let base = Duration::from_millis(500);
        // First ten polls: 500 ms whatever the progress says.
        assert_eq!(
            next_poll_delay(3, base, Some(1), Duration::from_secs(2)),
            base
        );
        // Later the official schedule grows to 2 s ...
        assert_eq!(
            next_poll_delay(30, base, None, Duration::from_secs(60)),
            Duration::from_secs(2)
        );
        assert_eq!(
            next_poll_delay(10, base, None, Duration::from_secs(5)),
            Duration::from_millis(750)
        );
        // ... but near the end (90% after 9 s: about 1 s left) it polls sooner.
        assert_eq!(
            next_poll_delay(20, base, Some(95), Duration::from_secs(9)),
            base
        );
        let d = next_poll_delay(20, base, Some(80), Duration::from_secs(8));
        assert_eq!(d, Duration::from_secs(2));
    }
}
