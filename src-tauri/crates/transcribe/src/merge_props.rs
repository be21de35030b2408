//! Properties of the merge, over any chunking and any segments a
//! transcriber may return (out of order, overlapping, past the chunk).

use proptest::prelude::*;

use super::*;

/// One chunk's segments: (start, length, word) relative to the chunk.
type Chunk = Vec<(u64, u64, u8)>;

/// Chunks of `len` ms sharing `overlap` ms, each with segments as a
/// transcriber might answer.
fn chunks() -> impl Strategy<Value = (u64, u64, Vec<Chunk>)> {
    (5_000_u64..40_000, 0_u64..3_000).prop_flat_map(|(len, overlap)| {
        let segment = (0..len + 2_000, 0_u64..8_000, 0_u8..12);
        (
            Just(len),
            Just(overlap.min(len / 2)),
            proptest::collection::vec(proptest::collection::vec(segment, 0..8), 1..8),
        )
    })
}

fn merged(len: u64, overlap: u64, chunks: &[Chunk]) -> (Vec<Segment>, u64) {
    let mut m = Merger::new();
    let mut out = Vec::new();
    let step = len - overlap;
    let n = chunks.len() as u64;
    for (i, segs) in chunks.iter().enumerate() {
        let i = i as u64;
        let offset = i * step;
        let last = i + 1 == n;
        let segments = segs
            .iter()
            .map(|&(s, l, w)| Segment::new(s, s + l, format!("word{w} word{}", w / 2)))
            .collect();
        out.extend(m.push_chunk(
            offset,
            offset + len,
            if last { 0 } else { overlap },
            segments,
        ));
    }
    out.extend(m.finish());
    (out, (n - 1) * step + len)
}

proptest! {
    #[test]
    fn the_timeline_never_goes_backwards_and_stays_in_the_recording((len, overlap, chunks) in chunks()) {
        let (out, total) = merged(len, overlap, &chunks);
        let mut previous_end = 0;
        for s in &out {
            prop_assert!(s.start_ms >= previous_end, "{out:?}");
            prop_assert!(s.end_ms >= s.start_ms);
            prop_assert!(s.end_ms <= total, "{} past {total}", s.end_ms);
            prop_assert!(!s.text.trim().is_empty());
            previous_end = s.end_ms;
        }
    }

    #[test]
    fn nothing_is_invented((len, overlap, chunks) in chunks()) {
        let (out, _) = merged(len, overlap, &chunks);
        let heard: usize = chunks.iter().map(Vec::len).sum();
        prop_assert!(out.len() <= heard);
        for s in &out {
            for word in s.text.split_whitespace() {
                prop_assert!(word.starts_with("word"), "{word}");
            }
        }
    }

    #[test]
    fn without_overlap_every_spoken_segment_inside_its_chunk_is_kept(
        (len, _, chunks) in chunks()
    ) {
        let (out, _) = merged(len, 0, &chunks);
        let inside: usize = chunks
            .iter()
            .map(|c| c.iter().filter(|&&(s, l, _)| l > 0 && s + l <= len).count())
            .sum();
        prop_assert!(out.len() >= inside, "{} kept of {inside}", out.len());
    }
}
