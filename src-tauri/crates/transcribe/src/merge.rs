//! Stitching the segments of overlapping chunks into one timeline.
//!
//! Audio is transcribed in chunks that overlap (say 30 s with 2 s shared
//! with the next), so a word cut by a boundary is heard whole at least once.
//! The price is that the shared seconds are transcribed twice. The rule here:
//!
//! 1. Times are shifted to absolute and clamped to the chunk; blank segments
//!    and whisper's non-speech markers (`[BLANK_AUDIO]`, `(music)`,
//!    `[Musique]`…) are dropped.
//! 2. Where two chunks overlap, the cut is the middle of the shared region:
//!    the earlier chunk keeps the segments whose midpoint is before it, the
//!    later chunk those whose midpoint is at or after it. Each chunk is
//!    trusted where it had the most context on both sides.
//! 3. Segmentation differs between the two passes, so a later segment that
//!    starts inside the shared region can still repeat words kept from the
//!    earlier chunk: if its normalised words are all found in that tail it is
//!    dropped, and if it begins with the tail's last words (two or more) those
//!    are trimmed. The check stops at the first segment that says something
//!    new, so a sentence genuinely said twice is kept everywhere else.
//! 4. Output times never go backwards: each start is at least the previous
//!    end, and each end at least its start.
//!
//! Only the segments in a chunk's tail overlap are held back, waiting for the
//! next chunk; everything before is returned at once, so memory stays flat
//! over a three-hour recording.

use crate::transcript::Segment;

/// The fewest words a segment's head must share with the previous tail to be
/// trimmed. One shared word (`et`, `oui`) is too often genuinely repeated.
const MIN_TRIM_WORDS: usize = 2;

/// Merges chunk results, pushed in order, into final segments.
#[derive(Debug, Default)]
pub struct Merger {
    /// Absolute end of the last chunk pushed.
    prev_end: Option<u64>,
    /// The last chunk's segments in its tail overlap, unclamped: the next
    /// chunk decides whether they stay.
    pending: Vec<Segment>,
    /// The last segment returned: where the next one may start, and part of
    /// the text the next chunk is compared with.
    last_out: Option<Segment>,
}

impl Merger {
    pub fn new() -> Merger {
        Merger::default()
    }

    /// Adds one chunk's segments (times relative to `offset_ms`, the chunk's
    /// start in the recording). `chunk_end_ms` is the chunk's absolute end and
    /// `overlap_ms` how much of its end the next chunk will hear again (0 for
    /// the last one). Chunks must come in order. Returns the segments that no
    /// later chunk can change, in order.
    pub fn push_chunk(
        &mut self,
        offset_ms: u64,
        chunk_end_ms: u64,
        overlap_ms: u64,
        segments: Vec<Segment>,
    ) -> Vec<Segment> {
        let chunk_end = chunk_end_ms.max(offset_ms);
        let mut incoming: Vec<Segment> = segments
            .into_iter()
            .filter_map(|s| absolute(s, offset_ms, chunk_end))
            .collect();
        // Whisper emits segments in order; sorting (stable) only guards
        // against a backend that does not.
        incoming.sort_by_key(|s| s.start_ms);

        if let Some(prev_end) = self.prev_end.filter(|&end| offset_ms < end) {
            self.resolve_overlap(offset_ms, prev_end, &mut incoming);
        }

        let mut out = Vec::with_capacity(self.pending.len() + incoming.len());
        let mut last_end = self.last_out.as_ref().map_or(0, |s| s.end_ms);
        for s in self.pending.drain(..) {
            out.push(clamp_after(s, &mut last_end));
        }
        // Hold everything from the first segment that reaches into the tail:
        // holding a later segment but returning an earlier-starting one after
        // it would break the order.
        let held_from = chunk_end.saturating_sub(overlap_ms);
        let split = incoming
            .iter()
            .position(|s| s.midpoint_ms() >= held_from)
            .unwrap_or(incoming.len());
        self.pending = incoming.split_off(split);
        for s in incoming {
            out.push(clamp_after(s, &mut last_end));
        }

        if let Some(last) = out.last() {
            self.last_out = Some(last.clone());
        }
        self.prev_end = Some(self.prev_end.map_or(chunk_end, |e| e.max(chunk_end)));
        out
    }

    /// Returns the segments still held back after the last chunk.
    pub fn finish(self) -> Vec<Segment> {
        let mut last_end = self.last_out.as_ref().map_or(0, |s| s.end_ms);
        self.pending
            .into_iter()
            .map(|s| clamp_after(s, &mut last_end))
            .collect()
    }

    /// Applies rules 2 and 3 to the region `[offset, prev_end)` heard by
    /// both the previous chunk and this one.
    fn resolve_overlap(&mut self, offset: u64, prev_end: u64, incoming: &mut Vec<Segment>) {
        let cut = offset + (prev_end - offset) / 2;
        self.pending.retain(|s| s.midpoint_ms() < cut);
        // Not also "after the end of what was returned": a long segment
        // returned from before the tail can end at the chunk's edge, and the
        // next chunk's segment past the cut may carry its last words. Rule 3
        // trims the repeated part instead.
        incoming.retain(|s| s.midpoint_ms() >= cut);

        let mut tail: Vec<String> = Vec::new();
        if let Some(last) = self.last_out.as_ref().filter(|s| s.end_ms > offset) {
            tail.extend(words(&last.text));
        }
        for s in &self.pending {
            tail.extend(words(&s.text));
        }
        if tail.is_empty() {
            return;
        }
        while let Some(first) = incoming.first_mut() {
            if first.start_ms >= prev_end {
                break;
            }
            let head: Vec<String> = words(&first.text).collect();
            if contains_run(&tail, &head) {
                incoming.remove(0);
                continue;
            }
            let shared = shared_words(&tail, &head);
            if shared >= MIN_TRIM_WORDS {
                drop_leading_words(first, shared);
            }
            break;
        }
    }
}

/// Shifts a chunk-relative segment to absolute time within `[offset, chunk_end]`,
/// or drops it if it carries no speech.
fn absolute(mut s: Segment, offset: u64, chunk_end: u64) -> Option<Segment> {
    let text = s.text.trim();
    if is_non_speech(text) {
        return None;
    }
    // Whisper starts most segments with a space; the exports want none.
    if text.len() != s.text.len() {
        s.text = text.to_owned();
    }
    s.start_ms = offset.saturating_add(s.start_ms).min(chunk_end);
    s.end_ms = offset
        .saturating_add(s.end_ms)
        .min(chunk_end)
        .max(s.start_ms);
    Some(s)
}

/// True for text with no words once bracketed or parenthesised groups are
/// removed: whisper's `[BLANK_AUDIO]`, `(music)`, `[Musique]`, `(rires)`, and
/// lone punctuation or `♪`. Text with words around a marker is kept as said.
fn is_non_speech(text: &str) -> bool {
    let mut rest = text;
    let mut spoken = String::new();
    while let Some(open) = rest.find(['[', '(']) {
        spoken.push_str(&rest[..open]);
        let close = if rest[open..].starts_with('[') {
            ']'
        } else {
            ')'
        };
        if let Some(len) = rest[open..].find(close) {
            rest = &rest[open + len + 1..];
        } else {
            // An unclosed bracket is not a marker: keep the rest as text.
            spoken.push_str(&rest[open..]);
            rest = "";
        }
    }
    spoken.push_str(rest);
    !spoken.chars().any(char::is_alphanumeric)
}

/// Lowercase, punctuation-free words: how the two passes over the shared
/// seconds are compared (one may write `Bonjour,` and the other `bonjour`).
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split_whitespace()
        .map(normalise_word)
        .filter(|w| !w.is_empty())
}

fn normalise_word(token: &str) -> String {
    token
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether `needle` appears as consecutive words in `hay`.
fn contains_run(hay: &[String], needle: &[String]) -> bool {
    !needle.is_empty()
        && needle.len() <= hay.len()
        && hay.windows(needle.len()).any(|w| w == needle)
}

/// The longest k < `head.len()` such that `tail` ends with `head[..k]`.
fn shared_words(tail: &[String], head: &[String]) -> usize {
    (1..head.len().min(tail.len() + 1))
        .rev()
        .find(|&k| tail.ends_with(&head[..k]))
        .unwrap_or(0)
}

/// Removes the first `n` words (and punctuation-only tokens right after
/// them) and moves the start forward by the share of characters removed:
/// whisper gives no word times here, and speech rate is close enough to even
/// over one segment.
fn drop_leading_words(segment: &mut Segment, n: usize) {
    let tokens: Vec<&str> = segment.text.split_whitespace().collect();
    let mut seen = 0;
    let mut cut = 0;
    while cut < tokens.len() && seen < n {
        if !normalise_word(tokens[cut]).is_empty() {
            seen += 1;
        }
        cut += 1;
    }
    while cut < tokens.len() && normalise_word(tokens[cut]).is_empty() {
        cut += 1;
    }
    let removed: usize = tokens[..cut].iter().map(|t| t.chars().count()).sum();
    let total: usize = tokens.iter().map(|t| t.chars().count()).sum();
    let span = segment.end_ms.saturating_sub(segment.start_ms);
    if total > 0 {
        let shift = u128::from(span) * removed as u128 / total as u128;
        // `shift` <= `span`, which is a u64.
        segment.start_ms += u64::try_from(shift).unwrap_or(span);
    }
    segment.text = tokens[cut..].join(" ");
}

/// Rule 4: never before the previous end, never ending before the start.
fn clamp_after(mut s: Segment, last_end: &mut u64) -> Segment {
    s.start_ms = s.start_ms.max(*last_end);
    s.end_ms = s.end_ms.max(s.start_ms);
    *last_end = s.end_ms;
    s
}

#[cfg(test)]
#[path = "merge_props.rs"]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(start: u64, end: u64, text: &str) -> Segment {
        Segment::new(start, end, text)
    }

    fn texts(segments: &[Segment]) -> Vec<&str> {
        segments.iter().map(|s| s.text.as_str()).collect()
    }

    /// Pushes every chunk and returns all the output, in order.
    fn merge_all(chunks: Vec<(u64, u64, u64, Vec<Segment>)>) -> Vec<Segment> {
        let mut m = Merger::new();
        let mut out = Vec::new();
        for (offset, end, overlap, segments) in chunks {
            out.extend(m.push_chunk(offset, end, overlap, segments));
        }
        out.extend(m.finish());
        out
    }

    fn assert_ordered(segments: &[Segment]) {
        let mut last_end = 0;
        for s in segments {
            assert!(s.start_ms >= last_end, "{s:?} starts before {last_end}");
            assert!(s.end_ms >= s.start_ms, "{s:?} ends before it starts");
            last_end = s.end_ms;
        }
    }

    #[test]
    fn nothing_in_nothing_out() {
        assert!(Merger::new().finish().is_empty());
        let out = merge_all(vec![
            (0, 30_000, 2_000, vec![]),
            (28_000, 40_000, 0, vec![]),
        ]);
        assert!(out.is_empty());
    }

    #[test]
    fn a_single_chunk_is_shifted_trimmed_and_kept_whole() {
        let out = merge_all(vec![(
            5_000,
            35_000,
            0,
            vec![seg(0, 2_000, " Bonjour. "), seg(2_000, 4_500, "Ça va ?")],
        )]);
        assert_eq!(
            out,
            vec![seg(5_000, 7_000, "Bonjour."), seg(7_000, 9_500, "Ça va ?")]
        );
    }

    #[test]
    fn blank_segments_and_non_speech_markers_are_dropped() {
        let out = merge_all(vec![(
            0,
            30_000,
            0,
            vec![
                seg(0, 1_000, "[BLANK_AUDIO]"),
                seg(1_000, 2_000, "(music)"),
                seg(2_000, 3_000, " [Musique] "),
                seg(3_000, 4_000, "   "),
                seg(4_000, 5_000, ""),
                seg(5_000, 6_000, "[Musique] ♪ (applaudissements)"),
                seg(6_000, 7_000, "..."),
                seg(7_000, 8_000, "[rires] C'est drôle."),
                seg(8_000, 9_000, "(sic"),
            ],
        )]);
        assert_eq!(texts(&out), vec!["[rires] C'est drôle.", "(sic"]);
    }

    #[test]
    fn times_are_clamped_to_the_chunk_and_never_go_backwards() {
        let out = merge_all(vec![(
            10_000,
            20_000,
            0,
            vec![
                seg(3_000, 2_000, "fin avant le début"),
                seg(2_500, 4_000, "chevauche"),
                seg(9_000, 15_000, "déborde du morceau"),
            ],
        )]);
        // Sorted by start first, then each start pushed to the previous end.
        assert_eq!(
            out,
            vec![
                seg(12_500, 14_000, "chevauche"),
                seg(14_000, 14_000, "fin avant le début"),
                seg(19_000, 20_000, "déborde du morceau"),
            ]
        );
    }

    #[test]
    fn unsorted_segments_are_put_in_order() {
        let out = merge_all(vec![(
            0,
            30_000,
            0,
            vec![seg(5_000, 6_000, "deux"), seg(1_000, 2_000, "un")],
        )]);
        assert_eq!(texts(&out), vec!["un", "deux"]);
    }

    #[test]
    fn the_overlap_is_split_at_its_middle() {
        // Shared region 28–30 s, cut at 29 s. Both chunks heard "point deux"
        // and "point trois"; each is kept once, from the chunk that owns its
        // midpoint.
        let out = merge_all(vec![
            (
                0,
                30_000,
                2_000,
                vec![
                    seg(20_000, 27_000, "Point un."),
                    seg(27_000, 28_800, "Point deux."),
                    seg(29_000, 30_000, "Point"),
                ],
            ),
            (
                28_000,
                58_000,
                0,
                vec![
                    seg(0, 800, "deux."),
                    seg(1_000, 2_600, "Point trois."),
                    seg(3_000, 5_000, "Point quatre."),
                ],
            ),
        ]);
        assert_eq!(
            texts(&out),
            vec!["Point un.", "Point deux.", "Point trois.", "Point quatre."]
        );
        assert_ordered(&out);
    }

    #[test]
    fn a_repeat_of_the_last_kept_segment_inside_the_overlap_is_dropped() {
        // The later pass places the same sentence a little later, past the cut.
        let out = merge_all(vec![
            (
                0,
                30_000,
                2_000,
                vec![seg(28_100, 29_700, "Nous passons au vote.")],
            ),
            (
                28_000,
                58_000,
                0,
                vec![
                    seg(700, 2_400, "nous passons au vote"),
                    seg(2_500, 4_000, "Qui est pour ?"),
                ],
            ),
        ]);
        assert_eq!(texts(&out), vec!["Nous passons au vote.", "Qui est pour ?"]);
        assert_ordered(&out);
    }

    #[test]
    fn a_later_segment_made_of_words_already_kept_is_dropped() {
        let out = merge_all(vec![
            (
                0,
                30_000,
                2_000,
                vec![seg(26_000, 29_200, "Bonjour à tous, et bienvenue.")],
            ),
            (
                28_000,
                58_000,
                0,
                vec![
                    seg(1_000, 3_000, "Et bienvenue !"),
                    seg(3_000, 6_000, "Commençons."),
                ],
            ),
        ]);
        assert_eq!(
            texts(&out),
            vec!["Bonjour à tous, et bienvenue.", "Commençons."]
        );
    }

    #[test]
    fn words_repeated_at_the_head_of_a_later_segment_are_trimmed() {
        let out = merge_all(vec![
            (
                0,
                30_000,
                2_000,
                vec![seg(26_000, 29_000, "Bonjour et bienvenue dans")],
            ),
            (
                28_000,
                58_000,
                0,
                vec![seg(1_000, 5_000, "Et bienvenue dans cette réunion.")],
            ),
        ]);
        assert_eq!(
            texts(&out),
            vec!["Bonjour et bienvenue dans", "cette réunion."]
        );
        // 15 of the 28 non-space characters were removed: the start moves
        // forward by that share of the 4 s (2,142 ms).
        assert_eq!(out[1].start_ms, 31_142);
        assert_eq!(out[1].end_ms, 33_000);
    }

    #[test]
    fn the_last_words_of_a_returned_segment_heard_only_later_are_kept() {
        // The first chunk's segment is centred before its tail, so it is
        // returned at once, but "fin" was only heard by the second chunk.
        let out = merge_all(vec![
            (
                0,
                30_000,
                2_000,
                vec![seg(24_000, 30_000, "Voici la phrase presque à sa")],
            ),
            (
                28_000,
                58_000,
                0,
                vec![
                    seg(0, 2_400, "presque à sa fin."),
                    seg(3_000, 4_000, "Ensuite."),
                ],
            ),
        ]);
        assert_eq!(
            texts(&out),
            vec!["Voici la phrase presque à sa", "fin.", "Ensuite."]
        );
        assert_ordered(&out);
    }

    #[test]
    fn a_single_shared_word_is_not_trimmed() {
        let out = merge_all(vec![
            (0, 30_000, 2_000, vec![seg(26_000, 29_000, "Je dis oui")]),
            (
                28_000,
                58_000,
                0,
                vec![seg(1_000, 4_000, "oui à cette proposition")],
            ),
        ]);
        assert_eq!(texts(&out), vec!["Je dis oui", "oui à cette proposition"]);
    }

    #[test]
    fn a_sentence_said_twice_far_apart_is_kept_twice() {
        let out = merge_all(vec![
            (
                0,
                30_000,
                2_000,
                vec![seg(5_000, 6_000, "Merci."), seg(20_000, 21_000, "Merci.")],
            ),
            (
                28_000,
                58_000,
                2_000,
                // 31 s: after the shared region, so said again, not heard again.
                vec![seg(3_000, 4_000, "Merci."), seg(12_000, 13_000, "Merci.")],
            ),
            (56_000, 70_000, 0, vec![seg(5_000, 6_000, "Merci.")]),
        ]);
        assert_eq!(texts(&out), vec!["Merci."; 5]);
        assert_ordered(&out);
    }

    #[test]
    fn the_same_sentence_twice_in_a_row_within_a_chunk_is_kept() {
        let out = merge_all(vec![(
            0,
            30_000,
            2_000,
            vec![seg(1_000, 2_000, "Allô ?"), seg(3_000, 4_000, "Allô ?")],
        )]);
        assert_eq!(texts(&out), vec!["Allô ?", "Allô ?"]);
    }

    #[test]
    fn chunks_with_a_gap_or_edge_to_edge_are_concatenated() {
        let out = merge_all(vec![
            (0, 10_000, 0, vec![seg(8_000, 10_000, "Fin du premier.")]),
            (10_000, 20_000, 0, vec![seg(0, 2_000, "Fin du premier.")]),
            (25_000, 30_000, 0, vec![seg(0, 1_000, "Après un trou.")]),
        ]);
        assert_eq!(
            texts(&out),
            vec!["Fin du premier.", "Fin du premier.", "Après un trou."]
        );
        assert_ordered(&out);
    }

    #[test]
    fn only_the_tail_overlap_is_held_back() {
        let mut m = Merger::new();
        let first = m.push_chunk(
            0,
            30_000,
            2_000,
            vec![seg(1_000, 5_000, "Début."), seg(27_000, 29_000, "Presque.")],
        );
        // "Presque." has its midpoint at 28 s, in the tail: held.
        assert_eq!(texts(&first), vec!["Début."]);
        let second = m.push_chunk(28_000, 40_000, 0, vec![seg(5_000, 6_000, "Suite.")]);
        assert_eq!(texts(&second), vec!["Presque.", "Suite."]);
        assert!(m.finish().is_empty());
    }

    #[test]
    fn once_one_segment_is_held_the_ones_after_it_are_held_too() {
        let mut m = Merger::new();
        // A long segment starting later but centred earlier must not be
        // returned before the held one.
        let first = m.push_chunk(
            0,
            30_000,
            2_000,
            vec![seg(27_000, 29_500, "tenu"), seg(27_500, 27_600, "court")],
        );
        assert!(first.is_empty());
        assert_eq!(texts(&m.finish()), vec!["tenu", "court"]);
    }

    #[test]
    fn a_declared_overlap_smaller_than_the_real_one_does_not_duplicate() {
        // The caller said 0 ms but the next chunk starts 2 s back: "Bonjour"
        // was already returned and its time is final.
        let out = merge_all(vec![
            (0, 30_000, 0, vec![seg(27_000, 30_000, "Bonjour.")]),
            (
                28_000,
                58_000,
                0,
                vec![seg(0, 2_000, "Bonjour."), seg(2_500, 4_000, "Oui.")],
            ),
        ]);
        assert_eq!(texts(&out), vec!["Bonjour.", "Oui."]);
        assert_ordered(&out);
    }

    /// Speech as whisper would hear it through a window: the words whose
    /// middle falls inside `[from, to)`, as one segment per sentence.
    fn hear(sentences: &[(u64, &str)], from: u64, to: u64) -> Vec<Segment> {
        const WORD_MS: u64 = 400;
        let mut out = Vec::new();
        for &(start, sentence) in sentences {
            let heard: Vec<(u64, &str)> = sentence
                .split(' ')
                .enumerate()
                .map(|(i, w)| (start + i as u64 * WORD_MS, w))
                .filter(|&(t, _)| t + WORD_MS / 2 >= from && t + WORD_MS / 2 < to)
                .collect();
            if let (Some(first), Some(last)) = (heard.first(), heard.last()) {
                let text: Vec<&str> = heard.iter().map(|&(_, w)| w).collect();
                out.push(seg(
                    first.0.saturating_sub(from),
                    last.0 + WORD_MS - from,
                    &text.join(" "),
                ));
            }
        }
        out
    }

    #[test]
    fn simulated_recording_comes_back_word_for_word() {
        // Chunks 0–30, 28–58, 56–86 and 84–90 s; words last 400 ms.
        let sentences = [
            (1_000, "Bonjour à tous et merci d'être venus ce matin."),
            // Returned from the first chunk (centred before its tail) but its
            // last word is only heard by the second: that word must survive.
            (
                23_000,
                "Le premier point concerne le budget de l'année prochaine qui augmente \
                 encore et toujours selon la direction financière.",
            ),
            (30_500, "Nous en reparlerons."),
            // Held in the second chunk's tail, finished by the third.
            (
                55_000,
                "Ensuite la réunion à 9 h est déplacée au jeudi suivant à midi.",
            ),
            // Wholly inside the last overlap: heard twice, kept once.
            (84_500, "Des questions ?"),
            (87_000, "Merci à tous."),
        ];
        let (chunk, overlap) = (30_000, 2_000);
        let total = 90_000;
        let mut m = Merger::new();
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let end = (offset + chunk).min(total);
            let last = end == total;
            let tail = if last { 0 } else { overlap };
            out.extend(m.push_chunk(offset, end, tail, hear(&sentences, offset, end)));
            if last {
                break;
            }
            offset = end - overlap;
        }
        out.extend(m.finish());
        let merged: Vec<&str> = texts(&out);
        let expected: Vec<&str> = sentences.iter().map(|&(_, s)| s).collect();
        assert_eq!(merged.join(" "), expected.join(" "));
        assert_ordered(&out);
    }

    #[test]
    fn three_hours_of_chunks_keep_memory_flat_and_order_intact() {
        // A deterministic pseudo-random stream (no rand dependency needed).
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |bound: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % bound
        };
        let (chunk, overlap, total) = (30_000_u64, 2_000_u64, 3 * 3_600_000_u64);
        let mut m = Merger::new();
        let mut all = Vec::new();
        let mut offset = 0;
        let mut max_pending = 0;
        while offset < total {
            let end = (offset + chunk).min(total);
            let mut segments = Vec::new();
            let mut t = next(1_000);
            while t < end - offset {
                let len = 300 + next(6_000);
                segments.push(seg(t, t + len, &format!("mot{}", next(50))));
                t += len.saturating_sub(next(500)) + next(800);
            }
            let tail = if end == total { 0 } else { overlap };
            all.extend(m.push_chunk(offset, end, tail, segments));
            max_pending = max_pending.max(m.pending.len());
            if end == total {
                break;
            }
            offset = end - overlap;
        }
        all.extend(m.finish());
        assert!(max_pending <= 8, "held {max_pending} segments");
        assert!(all.len() > 2_000);
        assert_ordered(&all);
        assert!(all.last().unwrap().end_ms <= total);
    }

    #[test]
    fn helpers() {
        let w = |s: &str| words(s).collect::<Vec<_>>();
        assert_eq!(
            w("  Bonjour, À TOUS — l'équipe ! "),
            vec!["bonjour", "à", "tous", "léquipe"]
        );
        assert!(contains_run(&w("a b c d"), &w("b c")));
        assert!(!contains_run(&w("a b c d"), &w("b d")));
        assert!(!contains_run(&w("a"), &w("a b")));
        assert!(!contains_run(&w("a"), &[]));
        assert_eq!(shared_words(&w("x a b c"), &w("b c d e")), 2);
        assert_eq!(shared_words(&w("x a b c"), &w("b c")), 0); // whole head: containment's job
        assert_eq!(shared_words(&w("c"), &w("d e")), 0);
        let mut s = seg(0, 1_000, "Et — bienvenue, dans cette salle");
        drop_leading_words(&mut s, 2);
        assert_eq!(s.text, "dans cette salle");
        assert!(s.start_ms > 0 && s.start_ms < 1_000);
    }
}
