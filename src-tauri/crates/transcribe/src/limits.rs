//! Every limit the audio front applies, in one place.
//!
//! A recording's header is whatever its sender wrote. Each number read from
//! it that sizes an allocation or a loop is checked here before it is used:
//! a 32 KB WAV claiming 4,294,967,291 Hz once made the resampler ask for
//! 17 GB. The limits sit far above what any recorder produces, so a real
//! file never meets one; a file that passes one fails with
//! [`TranscribeError::OverLimit`], naming the limit, and nothing else stops.

use std::time::Duration;

use crate::TranscribeError;

/// Sample rates accepted, in Hz. Telephony starts at 8 kHz, studio masters
/// stop at 768 kHz; the resampler's memory grows with the rate (about 4
/// bytes per Hz for a rate prime to 16 kHz), so 768 kHz costs a few MB.
pub const SAMPLE_RATES: std::ops::RangeInclusive<u32> = 1_000..=768_000;

/// Channels in one stream (ambisonic and cinema layouts stay well below).
pub const MAX_CHANNELS: usize = 64;

/// Samples (all channels) in one decoded packet: 16 MB of `f32`, about a
/// minute of stereo at 48 kHz, where codecs use a few thousand.
pub const MAX_PACKET_SAMPLES: usize = 1 << 22;

/// The longest recording transcribed: a day. Decoding is linear in the
/// audio, so this bounds the time a crafted file can keep a job busy.
pub const MAX_DURATION: Duration = Duration::from_hours(24);

pub(crate) fn check_rate(rate: u32) -> Result<(), TranscribeError> {
    if SAMPLE_RATES.contains(&rate) {
        return Ok(());
    }
    Err(TranscribeError::OverLimit {
        what: "sample rate",
        found: format!("{rate} Hz"),
        limit: format!("{} to {} Hz", SAMPLE_RATES.start(), SAMPLE_RATES.end()),
    })
}

pub(crate) fn check_channels(channels: usize) -> Result<(), TranscribeError> {
    if channels <= MAX_CHANNELS {
        return Ok(());
    }
    Err(TranscribeError::OverLimit {
        what: "channel count",
        found: channels.to_string(),
        limit: format!("{MAX_CHANNELS}"),
    })
}

pub(crate) fn check_packet(samples: usize) -> Result<(), TranscribeError> {
    if samples <= MAX_PACKET_SAMPLES {
        return Ok(());
    }
    Err(TranscribeError::OverLimit {
        what: "packet size",
        found: format!("{samples} samples"),
        limit: format!("{MAX_PACKET_SAMPLES} samples"),
    })
}

pub(crate) fn check_duration(so_far: Duration) -> Result<(), TranscribeError> {
    if so_far <= MAX_DURATION {
        return Ok(());
    }
    Err(TranscribeError::OverLimit {
        what: "length",
        found: "more than 24 h".to_owned(),
        limit: "24 h".to_owned(),
    })
}

/// Runs one step of decoding, turning a panic in a decoder (a crafted file
/// reaching a bug in a codec) into this file's error: a bad file fails its
/// own job and nothing else.
pub(crate) fn unwinding<T>(
    step: impl FnOnce() -> Result<T, TranscribeError>,
) -> Result<T, TranscribeError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_owned());
        tracing::error!(%what, "the audio decoder panicked on a file");
        Err(TranscribeError::Corrupt(format!(
            "the decoder failed on it ({what})"
        )))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_name_themselves() {
        let e = check_rate(4_294_967_291).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the recording's sample rate (4294967291 Hz) is outside this app's limits (1000 to 768000 Hz)"
        );
        assert!(check_rate(8_000).is_ok() && check_rate(768_000).is_ok());
        assert!(check_rate(999).is_err());
        assert!(check_channels(64).is_ok() && check_channels(65).is_err());
        assert!(check_packet(MAX_PACKET_SAMPLES + 1).is_err());
        assert!(check_duration(MAX_DURATION).is_ok());
        assert!(check_duration(MAX_DURATION + Duration::from_millis(1)).is_err());
    }

    #[test]
    fn a_panic_is_the_file_s_error() {
        let r: Result<(), _> = unwinding(|| panic!("index out of bounds"));
        assert_eq!(
            r.unwrap_err(),
            TranscribeError::Corrupt("the decoder failed on it (index out of bounds)".into())
        );
    }
}
