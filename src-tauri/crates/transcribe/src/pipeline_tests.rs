use super::*;
use crate::decode::tests::tone_wav;

/// Answers one segment per chunk, saying which chunk and when it started.
struct Echo {
    chunking: Chunking,
    batch: usize,
    seen: Vec<(usize, u64, u64)>,
    cancel_after: Option<usize>,
}

impl Transcriber for Echo {
    fn model(&self) -> String {
        "echo".into()
    }
    fn chunking(&self) -> Chunking {
        self.chunking
    }
    fn batch(&self) -> usize {
        self.batch
    }
    fn transcribe(
        &mut self,
        chunks: &[Chunk],
        _language: Option<&str>,
        cancel: &CancellationToken,
    ) -> Result<Vec<ChunkResult>, llmaas_core::SpeechError> {
        Ok(chunks
            .iter()
            .map(|c| {
                self.seen.push((c.index, c.offset_ms, c.duration_ms()));
                if self.cancel_after == Some(c.index) {
                    cancel.cancel();
                }
                ChunkResult {
                    // Speech in the middle of the chunk, clear of its overlaps.
                    segments: vec![Segment::new(3_000, 4_000, format!("chunk {}", c.index))],
                    language: Some("en".into()),
                }
            })
            .collect())
    }
}

fn echo(chunk_ms: u64, overlap_ms: u64, batch: usize) -> Echo {
    Echo {
        chunking: Chunking {
            chunk_ms,
            overlap_ms,
        },
        batch,
        seen: Vec::new(),
        cancel_after: None,
    }
}

#[test]
fn chunks_overlap_and_segments_come_out_in_absolute_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("meeting.wav");
    std::fs::write(&path, tone_wav(44_100, 2, 25.0)).unwrap();
    let mut t = echo(10_000, 2_000, 2);
    let mut reports = Vec::new();
    let transcript = transcribe_file(
        &path,
        &mut t,
        &Options::default(),
        &CancellationToken::new(),
        &mut |p| reports.push(p),
    )
    .unwrap();
    // 25 s in steps of 8 s: chunks at 0 and 8 s, and the last 9 s from 16 s.
    let offsets: Vec<u64> = t.seen.iter().map(|s| s.1).collect();
    assert_eq!(offsets, [0, 8_000, 16_000]);
    assert_eq!(t.seen[0].2, 10_000);
    assert_eq!(t.seen[2].2, 9_000);
    assert_eq!(transcript.duration_ms, 25_000);
    assert_eq!(transcript.source.as_deref(), Some("meeting.wav"));
    assert_eq!(transcript.language.as_deref(), Some("en"), "detected");
    assert_eq!(transcript.model, "echo");
    let starts: Vec<u64> = transcript.segments.iter().map(|s| s.start_ms).collect();
    assert_eq!(starts, [3_000, 11_000, 19_000]);
    // Every final segment was reported once, as it became final.
    let reported: Vec<Segment> = reports.iter().flat_map(|p| p.segments.clone()).collect();
    assert_eq!(reported, transcript.segments);
    assert!(reports.iter().all(|p| p.total_ms == Some(25_000)));
}

#[test]
fn a_short_recording_is_one_chunk_with_segments_clamped_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("short.wav");
    std::fs::write(&path, tone_wav(16_000, 1, 2.0)).unwrap();
    let mut t = echo(30_000, 2_000, 1);
    let transcript = transcribe_file(
        &path,
        &mut t,
        &Options {
            language: Some("fr".into()),
        },
        &CancellationToken::new(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(t.seen, [(0, 0, 2_000)]);
    assert_eq!(
        transcript.language.as_deref(),
        Some("fr"),
        "the language asked for"
    );
    // The echo's segment (3–4 s) lies past the 2 s chunk: clamped, then empty.
    assert!(transcript.segments.iter().all(|s| s.end_ms <= 2_000));
}

#[test]
fn cancelling_stops_between_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.wav");
    std::fs::write(&path, tone_wav(16_000, 1, 60.0)).unwrap();
    let mut t = echo(10_000, 1_000, 1);
    t.cancel_after = Some(1);
    let err = transcribe_file(
        &path,
        &mut t,
        &Options::default(),
        &CancellationToken::new(),
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(err, TranscribeError::Cancelled);
    assert_eq!(t.seen.len(), 2);
}

#[test]
fn the_chunker_holds_one_chunk() {
    let mut c = Chunker::new(Chunking {
        chunk_ms: 1_000,
        overlap_ms: 200,
    });
    let mut chunks = Vec::new();
    for _ in 0..100 {
        c.push(&[0.5; 160]); // 10 ms at a time, 1 s in all
        while let Some(ch) = c.next_chunk() {
            chunks.push((ch.offset_ms, ch.samples.len()));
        }
        assert!(c.buffer.len() <= 16_000);
    }
    c.finish();
    while let Some(ch) = c.next_chunk() {
        chunks.push((ch.offset_ms, ch.samples.len()));
    }
    assert_eq!(chunks, [(0, 16_000)], "the overlap alone is not a chunk");

    let mut big = Chunker::new(Chunking {
        chunk_ms: 1_000,
        overlap_ms: 200,
    });
    big.push(&vec![0.0; 40_000]); // one block of 2.5 s
    big.finish();
    let offsets: Vec<u64> = std::iter::from_fn(|| big.next_chunk())
        .map(|c| c.offset_ms)
        .collect();
    assert_eq!(offsets, [0, 800, 1_600]);
}
