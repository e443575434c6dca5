//! EMQX's chain rules over a hook's handlers, as plain state machines:
//! `Ignore` passes the value on unchanged, `Continue` passes a new one,
//! a stop ends the chain.

use crate::event::Message;
use crate::outcome::{Decision, Publish};
use crate::route::{Hits, Route};

/// The state of an authenticate or authorize chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DecideChain {
    pub(crate) value: bool,
    /// Some handler answered something other than `Ignore`.
    pub(crate) answered: bool,
    pub(crate) stopped: bool,
}

impl DecideChain {
    pub(crate) fn new(value: bool) -> Self {
        DecideChain {
            value,
            answered: false,
            stopped: false,
        }
    }

    pub(crate) fn apply(&mut self, decision: Decision) {
        match decision {
            Decision::Ignore => return,
            Decision::Continue(value) => self.value = value,
            Decision::Allow => (self.value, self.stopped) = (true, true),
            Decision::Deny => (self.value, self.stopped) = (false, true),
        }
        self.answered = true;
    }
}

/// The state of a publish chain.
#[derive(Debug)]
pub(crate) struct PublishChain {
    /// The message so far; `None` while it is still the received one.
    pub(crate) current: Option<Message>,
    pub(crate) answered: bool,
    pub(crate) stopped: bool,
    pub(crate) dropped: bool,
    /// Which handlers match the current topic.
    pub(crate) hits: Hits,
}

impl PublishChain {
    pub(crate) fn new(hits: Hits) -> Self {
        PublishChain {
            current: None,
            answered: false,
            stopped: false,
            dropped: false,
            hits,
        }
    }

    pub(crate) fn apply(&mut self, answer: Publish, route: &Route, received_topic: &str) {
        let message = match answer {
            Publish::Ignore => return,
            Publish::Drop => {
                self.dropped = true;
                self.stopped = true;
                self.answered = true;
                return;
            }
            Publish::Stop(message) => {
                self.stopped = true;
                message
            }
            Publish::Continue(message) => message,
        };
        self.answered = true;
        // Like EMQX between servers, later handlers match the new topic.
        let previous_topic = self.current.as_ref().map_or(received_topic, |m| &m.topic);
        if !self.stopped && route.is_filtered() && previous_topic != message.topic {
            self.hits = route.hits([message.topic.as_str()]);
        }
        self.current = Some(message);
    }

    /// The message EMQX gets: the last one handlers continued or stopped
    /// with, or the received one. A dropped message is answered with what
    /// EMQX reads of it (see [`dropped`]).
    pub(crate) fn answer(self, received: &Message) -> Message {
        let current = self.current.as_ref().unwrap_or(received);
        if self.dropped {
            return dropped(current);
        }
        match self.current {
            Some(message) => message,
            None => received.clone(),
        }
    }
}

/// The answer to a dropped message, whichever way its handler took it:
/// its `qos`, `topic` and `payload`, which EMQX copies into the message it
/// then drops and shows in its log and trace, and `allow_publish = "false"`,
/// which makes EMQX route nothing. EMQX reads nothing else of it.
pub(crate) fn dropped(message: &Message) -> Message {
    Message {
        qos: message.qos,
        topic: message.topic.clone(),
        payload: message.payload.clone(),
        headers: [("allow_publish".to_owned(), "false".to_owned())].into(),
        ..Message::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::HandlerSpec;
    use crate::hook::Hook;

    fn decide(start: bool, answers: &[Decision]) -> DecideChain {
        let mut chain = DecideChain::new(start);
        for answer in answers {
            chain.apply(*answer);
            if chain.stopped {
                break;
            }
        }
        chain
    }

    #[test]
    fn decide_chain_follows_emqx() {
        // Nobody answered: EMQX gets IGNORE and keeps its own result.
        assert_eq!(
            decide(true, &[Decision::Ignore, Decision::Ignore]),
            DecideChain::new(true)
        );
        // Continue replaces the value and goes on; a later Ignore keeps it.
        let chain = decide(true, &[Decision::Continue(false), Decision::Ignore]);
        assert_eq!(
            (chain.value, chain.answered, chain.stopped),
            (false, true, false)
        );
        // Allow and Deny stop the chain; later answers are not applied.
        let chain = decide(false, &[Decision::Allow, Decision::Deny]);
        assert_eq!((chain.value, chain.stopped), (true, true));
        let chain = decide(
            true,
            &[Decision::Continue(true), Decision::Deny, Decision::Allow],
        );
        assert_eq!((chain.value, chain.stopped), (false, true));
    }

    fn message(topic: &str, payload: &'static str) -> Message {
        Message {
            topic: topic.to_owned(),
            payload: payload.into(),
            from: "c1".to_owned(),
            ..Message::default()
        }
    }

    #[test]
    fn publish_chain_keeps_the_message_so_far() {
        let route = Route::new(Hook::SessionUnsubscribed, std::iter::empty());
        let received = message("a/b", "x");
        let mut chain = PublishChain::new(Hits::All);
        chain.apply(Publish::Ignore, &route, &received.topic);
        assert!(!chain.answered);
        chain.apply(
            Publish::Continue(message("a/c", "y")),
            &route,
            &received.topic,
        );
        chain.apply(Publish::Ignore, &route, &received.topic);
        assert!(chain.answered && !chain.stopped);
        assert_eq!(chain.answer(&received), message("a/c", "y"));
    }

    #[test]
    fn a_drop_keeps_topic_and_payload_of_the_message_so_far() {
        let route = Route::new(Hook::SessionUnsubscribed, std::iter::empty());
        let received = message("a/b", "x");
        let mut chain = PublishChain::new(Hits::All);
        chain.apply(Publish::Drop, &route, &received.topic);
        assert!(chain.stopped && chain.dropped);
        let answer = chain.answer(&received);
        assert_eq!(answer, dropped(&received));
        assert_eq!(
            (answer.topic.as_str(), &answer.payload[..]),
            ("a/b", &b"x"[..])
        );
        assert_eq!(answer.headers["allow_publish"], "false");

        let mut chain = PublishChain::new(Hits::All);
        chain.apply(
            Publish::Continue(message("a/c", "y")),
            &route,
            &received.topic,
        );
        chain.apply(Publish::Drop, &route, &received.topic);
        let answer = chain.answer(&received);
        assert_eq!(
            (answer.topic.as_str(), &answer.payload[..]),
            ("a/c", &b"y"[..])
        );
    }

    #[test]
    fn a_new_topic_changes_which_later_handlers_match() {
        let specs = [
            HandlerSpec::new(Hook::SessionUnsubscribed, "a", "t::a", &["a/#"], &[]),
            HandlerSpec::new(Hook::SessionUnsubscribed, "b", "t::b", &["b/#"], &[]),
        ];
        let route = Route::new(Hook::SessionUnsubscribed, specs.iter());
        let received = message("a/1", "x");
        let mut chain = PublishChain::new(route.hits(["a/1"]));
        assert!(chain.hits.contains(0) && !chain.hits.contains(1));
        chain.apply(
            Publish::Continue(message("b/1", "x")),
            &route,
            &received.topic,
        );
        assert!(!chain.hits.contains(0) && chain.hits.contains(1));
    }
}
