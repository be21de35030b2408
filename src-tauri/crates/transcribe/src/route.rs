//! Where a recording is transcribed, by the same policy as chat.
//!
//! The router decides chat per request and can fall back mid-way; a
//! transcription is decided once, before the first chunk, because the two
//! routes cut the audio differently (30 s for whisper here, 60 s for the
//! per-minute billing there) and a recording is not split between them.
//! A pure function of what the caller knows, so every rule has a test.

use llmaas_core::{Route, RoutePolicy};
use llmaas_router::RouteReason;

use crate::TranscribeError;

/// What the decision depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSituation {
    /// The user's policy (the setting, or a `--local`/`--cloud` override).
    pub policy: RoutePolicy,
    /// Never leaves this machine, whatever the policy.
    pub confidential: bool,
    /// An API key is configured (whether the provider accepts it is only
    /// known by asking; the router finds out on the first chunk).
    pub api_key: bool,
    /// A local speech model is installed and can be loaded.
    pub local_model: bool,
}

/// The route taken and why, for the user to see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteChoice {
    pub route: Route,
    pub reason: RouteReason,
}

impl RouteChoice {
    fn local(reason: RouteReason) -> RouteChoice {
        RouteChoice {
            route: Route::Local,
            reason,
        }
    }

    fn cloud(reason: RouteReason) -> RouteChoice {
        RouteChoice {
            route: Route::Cloud,
            reason,
        }
    }
}

/// Confidential → local only; policy local → local; policy cloud → cloud;
/// auto → the cloud when a key is configured, else a local model, else an
/// error that says what to install or configure.
pub fn choose_route(s: &RouteSituation) -> Result<RouteChoice, TranscribeError> {
    let local = |reason: RouteReason, why: &str| {
        if s.local_model {
            Ok(RouteChoice::local(reason))
        } else {
            Err(TranscribeError::NoLocalModel {
                why: why.to_owned(),
            })
        }
    };
    if s.confidential {
        // Above any policy: a confidential recording never reaches the cloud.
        return local(
            RouteReason::Confidential,
            "confidential: it may not leave this machine",
        );
    }
    match s.policy {
        RoutePolicy::Local => local(RouteReason::PolicyLocal, "routing policy: local"),
        RoutePolicy::Cloud if s.api_key => Ok(RouteChoice::cloud(RouteReason::PolicyCloud)),
        RoutePolicy::Cloud => Err(TranscribeError::NoApiKey),
        RoutePolicy::Auto if s.api_key => Ok(RouteChoice::cloud(RouteReason::AutoCloud)),
        RoutePolicy::Auto => local(
            RouteReason::NoKey,
            "and no API key for the cloud: store one with `llmaas key set`",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn situation(
        policy: RoutePolicy,
        confidential: bool,
        api_key: bool,
        local_model: bool,
    ) -> RouteSituation {
        RouteSituation {
            policy,
            confidential,
            api_key,
            local_model,
        }
    }

    fn route(s: RouteSituation) -> Result<Route, TranscribeError> {
        choose_route(&s).map(|c| c.route)
    }

    #[test]
    fn confidential_is_local_whatever_the_policy_and_the_key() {
        for policy in [RoutePolicy::Auto, RoutePolicy::Cloud, RoutePolicy::Local] {
            let c = choose_route(&situation(policy, true, true, true)).unwrap();
            assert_eq!(c.route, Route::Local);
            assert_eq!(c.reason, RouteReason::Confidential);
            let err = route(situation(policy, true, true, false)).unwrap_err();
            assert!(
                matches!(&err, TranscribeError::NoLocalModel { why } if why.contains("confidential")),
                "{err:?}"
            );
            assert!(err.to_string().contains("nothing was sent"), "{err}");
        }
    }

    #[test]
    fn policy_local_never_uses_the_cloud() {
        assert_eq!(
            route(situation(RoutePolicy::Local, false, true, true)),
            Ok(Route::Local)
        );
        assert!(matches!(
            route(situation(RoutePolicy::Local, false, true, false)),
            Err(TranscribeError::NoLocalModel { .. })
        ));
    }

    #[test]
    fn policy_cloud_needs_a_key_and_ignores_the_local_model() {
        let c = choose_route(&situation(RoutePolicy::Cloud, false, true, true)).unwrap();
        assert_eq!(c, RouteChoice::cloud(RouteReason::PolicyCloud));
        assert_eq!(
            route(situation(RoutePolicy::Cloud, false, false, true)),
            Err(TranscribeError::NoApiKey)
        );
    }

    #[test]
    fn auto_prefers_the_cloud_then_the_local_model_then_says_what_is_missing() {
        let c = choose_route(&situation(RoutePolicy::Auto, false, true, true)).unwrap();
        assert_eq!(c, RouteChoice::cloud(RouteReason::AutoCloud));
        assert_eq!(
            route(situation(RoutePolicy::Auto, false, true, false)),
            Ok(Route::Cloud)
        );
        let c = choose_route(&situation(RoutePolicy::Auto, false, false, true)).unwrap();
        assert_eq!(c, RouteChoice::local(RouteReason::NoKey));
        let err = route(situation(RoutePolicy::Auto, false, false, false)).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("no local speech model"), "{text}");
        assert!(text.contains("llmaas key set"), "{text}");
    }
}
