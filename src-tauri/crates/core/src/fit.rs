//! Fitting a long conversation into a model's context.
//!
//! A window sends the whole history at every turn; after a working day it no
//! longer fits, and the provider answers 400 `context_length_exceeded`. The
//! window asks for the request to be fitted instead, and says what was left
//! out. The rules, in order, each applied only while the request is still
//! too long (estimated as the budget guard estimates it, pessimistically):
//!
//! 1. Older images go first, oldest first: an image costs as much as pages
//!    of text, and only the latest one is usually being talked about. The
//!    newest message that carries images keeps them.
//! 2. Then the oldest turns, a user message and everything that answers it
//!    (assistant turns, tool calls and their results) at once, so that a
//!    tool result never loses the call it answers. System messages and the
//!    last turn are always kept.
//!
//! What is left may still be too long (one huge message): it is sent as it
//! is, and the provider's own error says so. The API's callers are not
//! fitted: they asked for exactly these messages.

// Functions here stay short enough to read.
#![warn(clippy::too_many_lines)]

use crate::{ChatRequest, ContentPart, Message, Role};

/// What fitting left out, for the person to be told.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fitted {
    /// Whole turns (a user message and its answers) left out, oldest first.
    pub dropped_turns: u32,
    /// Images left out of the turns that were kept.
    pub dropped_images: u32,
}

impl Fitted {
    pub fn is_unchanged(&self) -> bool {
        self.dropped_turns == 0 && self.dropped_images == 0
    }
}

/// A second fitting (to a smaller context) adds to the first.
impl std::ops::AddAssign for Fitted {
    fn add_assign(&mut self, more: Fitted) {
        self.dropped_turns = self.dropped_turns.saturating_add(more.dropped_turns);
        self.dropped_images = self.dropped_images.saturating_add(more.dropped_images);
    }
}

/// Fits `request` into `context` tokens, its output cap included (the
/// provider counts the prompt and `max_tokens` against the context).
pub fn fit_to_context(request: &mut ChatRequest, context: u32) -> Fitted {
    let budget = u64::from(context).saturating_sub(u64::from(request.max_output_tokens()));
    let mut fitted = Fitted::default();
    let mut total = request.estimate_input_tokens();
    if total <= budget {
        return fitted;
    }
    // Each message is priced once (an image's price reads its header), and
    // what fitting takes out is subtracted: a long day's conversation is not
    // priced again whole for every image or turn that goes.
    let mut costs: Vec<u64> = request
        .messages
        .iter()
        .map(Message::estimate_tokens)
        .collect();
    let keep_images = request.messages.iter().rposition(Message::has_image);
    let messages = request.messages.iter_mut().zip(costs.iter_mut());
    for (i, (message, cost)) in messages.enumerate() {
        if total <= budget {
            return fitted;
        }
        if Some(i) == keep_images {
            break;
        }
        let dropped = strip_images(message);
        if dropped > 0 {
            let now = message.estimate_tokens();
            total = total.saturating_sub(*cost) + now;
            *cost = now;
            fitted.dropped_images += dropped;
        }
    }
    while total > budget {
        let Some(turn) = oldest_turn(&request.messages) else {
            break;
        };
        let mut kept = Vec::with_capacity(costs.len());
        let mut i = 0;
        request.messages.retain(|m| {
            let keep = !turn.contains(&i) || m.role == Role::System;
            if keep {
                kept.push(costs[i]);
            } else {
                total = total.saturating_sub(costs[i]);
            }
            i += 1;
            keep
        });
        costs = kept;
        fitted.dropped_turns += 1;
    }
    fitted
}

/// The oldest turn that may go: from the first message that is not a system
/// message up to the next user message (system messages in it stay). None
/// when that is the last turn.
fn oldest_turn(messages: &[Message]) -> Option<std::ops::Range<usize>> {
    let start = messages.iter().position(|m| m.role != Role::System)?;
    let next_user = messages[start + 1..]
        .iter()
        .position(|m| m.role == Role::User)?;
    Some(start..start + 1 + next_user)
}

/// Takes the images out of a message, leaving a word in their place when
/// nothing else is left (a user message may not be empty). Returns how many.
fn strip_images(m: &mut Message) -> u32 {
    let before = m.content.len();
    m.content
        .retain(|part| !matches!(part, ContentPart::Image { .. }));
    let dropped = before - m.content.len();
    if dropped > 0 && m.text().trim().is_empty() {
        m.content = vec![ContentPart::Text {
            text: "[image left out]".into(),
        }];
    }
    u32::try_from(dropped).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ToolCall, image_tokens};

    /// An image whose size cannot be read: priced at the largest size.
    const IMAGE: &str = "data:image/png;base64,AAAA";

    fn words(n: usize) -> String {
        "word ".repeat(n)
    }

    fn conversation(turns: usize) -> Vec<Message> {
        let mut messages = vec![Message::system("You are terse.")];
        for t in 0..turns {
            messages.push(Message::user(format!("question {t}: {}", words(100))));
            messages.push(Message::assistant(format!("answer {t}: {}", words(100))));
        }
        messages.push(Message::user("and now?"));
        messages
    }

    fn request(messages: Vec<Message>, max_tokens: u32) -> ChatRequest {
        let mut r = ChatRequest::new("m", messages);
        r.max_tokens = Some(max_tokens);
        r
    }

    #[test]
    fn a_request_that_fits_is_left_alone() {
        let mut r = request(conversation(3), 256);
        let before = r.clone();
        let budget = r.estimate_input_tokens() + 256;
        let fitted = fit_to_context(&mut r, u32::try_from(budget).unwrap());
        assert!(fitted.is_unchanged());
        assert_eq!(r, before);
    }

    #[test]
    fn the_output_cap_counts_against_the_context() {
        let mut r = request(conversation(3), 256);
        let context = u32::try_from(r.estimate_input_tokens() + 255).unwrap();
        let fitted = fit_to_context(&mut r, context);
        assert_eq!(fitted.dropped_turns, 1);
        assert!(r.estimate_input_tokens() + 256 <= u64::from(context));
    }

    #[test]
    fn the_oldest_turns_go_first_and_system_and_last_turn_stay() {
        let mut r = request(conversation(10), 512);
        let fitted = fit_to_context(&mut r, 2_000);
        assert!(fitted.dropped_turns >= 1);
        assert!(r.estimate_input_tokens() + 512 <= 2_000);
        assert_eq!(r.messages[0], Message::system("You are terse."));
        assert_eq!(r.messages.last().unwrap(), &Message::user("and now?"));
        // What is left is the newest turns, in order, each question with its answer.
        let kept = r.messages.len() - 2;
        assert_eq!(kept, 2 * (10 - fitted.dropped_turns as usize));
        let first = r.messages[1].text();
        assert!(
            first.starts_with(&format!("question {}", fitted.dropped_turns)),
            "{first}"
        );
        assert_eq!(r.messages[2].role, Role::Assistant);
    }

    #[test]
    fn a_tool_result_goes_with_the_call_it_answers() {
        let mut call = Message::assistant("");
        call.content.clear();
        call.tool_calls.push(ToolCall {
            id: "c1".into(),
            name: "weather".into(),
            arguments: "{}".into(),
        });
        let mut messages = vec![
            Message::user(words(300)),
            call,
            Message::tool_result("c1", words(300)),
            Message::assistant("sunny"),
        ];
        messages.push(Message::system("Answer in French."));
        messages.push(Message::user("merci"));
        let mut r = request(messages, 100);
        let fitted = fit_to_context(&mut r, 200);
        assert_eq!(fitted.dropped_turns, 1);
        assert_eq!(
            r.messages,
            vec![Message::system("Answer in French."), Message::user("merci")]
        );
    }

    #[test]
    fn older_images_go_before_any_turn_and_the_newest_stay() {
        let image = IMAGE;
        let messages = vec![
            Message::user("what is this?").with_image(image),
            Message::assistant("a cat"),
            Message::user("").with_image(image),
            Message::assistant("a dog"),
            Message::user("and this?")
                .with_image(image)
                .with_image(image),
        ];
        let mut r = request(messages, 100);
        let one = image_tokens(image);
        let context = u32::try_from(2 * one + 200).unwrap();
        let fitted = fit_to_context(&mut r, context);
        assert_eq!(
            fitted,
            Fitted {
                dropped_turns: 0,
                dropped_images: 2
            }
        );
        assert_eq!(r.messages.len(), 5);
        assert_eq!(r.messages[0], Message::user("what is this?"));
        assert_eq!(r.messages[2], Message::user("[image left out]"));
        assert!(r.messages[4].has_image());
    }

    #[test]
    fn the_running_total_drops_no_more_than_needed() {
        // Each context from "fits with one turn" to "fits whole": the fitted
        // request fits, and with one turn fewer dropped it would not (the
        // subtracted total is the whole estimate, never more).
        let whole = request(conversation(8), 100);
        let full = u32::try_from(whole.estimate_input_tokens()).unwrap() + 100;
        for context in (300..=full).step_by(97) {
            let mut r = whole.clone();
            let fitted = fit_to_context(&mut r, context);
            assert!(
                r.estimate_input_tokens() + 100 <= u64::from(context),
                "{context}"
            );
            if fitted.dropped_turns > 0 {
                let kept = 2 * (8 - fitted.dropped_turns as usize);
                let mut one_more = whole.clone();
                one_more.messages.drain(1..1 + 16 - kept - 2);
                assert!(
                    one_more.estimate_input_tokens() + 100 > u64::from(context),
                    "{context}: dropped {} turns, one fewer fits",
                    fitted.dropped_turns
                );
            }
        }
    }

    #[test]
    fn a_last_turn_too_long_alone_is_sent_as_it_is() {
        let mut messages = conversation(2);
        messages.push(Message::user(words(10_000)));
        let mut r = request(messages, 100);
        let fitted = fit_to_context(&mut r, 1_000);
        assert_eq!(fitted.dropped_turns, 3);
        assert_eq!(r.messages.len(), 2);
        assert!(r.estimate_input_tokens() > 1_000);
    }
}
