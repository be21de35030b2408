//! The routing decision, as a pure function of the situation (DESIGN.md,
//! "Routing rules"). No I/O here, so every rule has a unit test.

use std::fmt;

use llmaas_core::{Capability, ModelId, Route, RoutePolicy};
use serde::{Deserialize, Serialize};

use crate::RouterError;

/// What the router knows of the cloud right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloudState {
    Ready,
    /// No cloud client at all (no base URL configured).
    NotConfigured,
    NoKey,
    /// A 401 earlier in this session.
    KeyRefused,
    /// A network failure recently: do not wait for another timeout.
    Offline,
}

/// What the catalogue says of the requested model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ModelStatus {
    Live,
    Retired {
        successor: Option<ModelId>,
    },
    /// Not in the catalogue: maybe newer than it, maybe a typo; the cloud decides.
    Unknown,
}

/// Everything a decision depends on.
#[derive(Debug, Clone)]
pub(crate) struct Situation {
    pub policy: RoutePolicy,
    pub confidential: bool,
    pub cloud: CloudState,
    pub model: ModelStatus,
    /// A local engine is there and has a model to run this request with.
    pub local_ready: bool,
    /// When no local model can take it although one is installed: what the
    /// request needs that the local model cannot do (vision, say).
    pub missing: Option<Capability>,
}

/// Why a request went where it went. Shown to the user with every answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RouteReason {
    /// Marked confidential: it never leaves this machine.
    Confidential,
    /// The policy says local.
    PolicyLocal,
    /// The policy says cloud.
    PolicyCloud,
    /// Policy auto, and the cloud is available.
    AutoCloud,
    /// Policy auto, no API key: ran locally.
    NoKey,
    /// Policy auto, the key was refused: ran locally.
    KeyRefused,
    /// Policy auto, the cloud cannot be reached: ran locally.
    Offline,
    /// Policy auto, the provider retired the model: ran locally.
    ModelRetired { successor: Option<ModelId> },
    /// The budget guard refused the cloud and the user allows local instead.
    OverBudget,
    /// The cloud failed before answering and policy auto allowed local.
    CloudFailed { error: String },
}

impl RouteReason {
    /// The route a reason leads to.
    pub fn route(&self) -> Route {
        match self {
            RouteReason::PolicyCloud | RouteReason::AutoCloud => Route::Cloud,
            _ => Route::Local,
        }
    }
}

impl fmt::Display for RouteReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteReason::Confidential => f.write_str("confidential: kept on this machine"),
            RouteReason::PolicyLocal => f.write_str("routing policy: local"),
            RouteReason::PolicyCloud => f.write_str("routing policy: cloud"),
            RouteReason::AutoCloud => f.write_str("auto: the cloud is available"),
            RouteReason::NoKey => f.write_str("auto: no API key, ran locally"),
            RouteReason::KeyRefused => f.write_str("auto: the API key was refused, ran locally"),
            RouteReason::Offline => f.write_str("auto: the cloud cannot be reached, ran locally"),
            RouteReason::ModelRetired { successor: Some(s) } => {
                write!(f, "auto: the model is retired (successor {s}), ran locally")
            }
            RouteReason::ModelRetired { successor: None } => {
                f.write_str("auto: the model is retired, ran locally")
            }
            RouteReason::OverBudget => {
                f.write_str("over budget: ran locally, as the settings allow")
            }
            RouteReason::CloudFailed { error } => {
                write!(f, "auto: the cloud failed ({error}), ran locally")
            }
        }
    }
}

/// Picks the route before the budget guard (which may still turn a cloud
/// route down). `Err` when no route is allowed, with the reason.
pub(crate) fn decide(s: &Situation) -> Result<RouteReason, RouterError> {
    let local = |reason: RouteReason| {
        if s.local_ready {
            return Ok(reason);
        }
        let why = match (s.missing, &reason) {
            (Some(cap), RouteReason::Confidential) => {
                format!("no local {cap} model: add one, or clear Confidential")
            }
            (Some(cap), _) => format!("no local {cap} model: add one, or use the cloud"),
            (None, _) => reason.to_string(),
        };
        Err(RouterError::NoLocalEngine { why })
    };
    if s.confidential {
        // Rule 1, above any policy: a confidential request never reaches the cloud.
        return local(RouteReason::Confidential);
    }
    match s.policy {
        RoutePolicy::Local => local(RouteReason::PolicyLocal),
        RoutePolicy::Cloud => cloud_blocker(s).map_or(Ok(RouteReason::PolicyCloud), Err),
        RoutePolicy::Auto => {
            let fallback = match s.cloud {
                CloudState::Ready => None,
                CloudState::NotConfigured | CloudState::NoKey => Some(RouteReason::NoKey),
                CloudState::KeyRefused => Some(RouteReason::KeyRefused),
                CloudState::Offline => Some(RouteReason::Offline),
            }
            .or_else(|| match &s.model {
                ModelStatus::Retired { successor } => Some(RouteReason::ModelRetired {
                    successor: successor.clone(),
                }),
                ModelStatus::Live | ModelStatus::Unknown => None,
            });
            match fallback {
                None => Ok(RouteReason::AutoCloud),
                Some(reason) if s.local_ready => Ok(reason),
                // Nothing local to fall back on: say what stopped the cloud.
                Some(_) => Err(cloud_blocker(s).unwrap_or(RouterError::NoLocalEngine {
                    why: "auto could not use the cloud".into(),
                })),
            }
        }
    }
}

/// What stops the cloud from taking the request, if anything.
fn cloud_blocker(s: &Situation) -> Option<RouterError> {
    match s.cloud {
        CloudState::NotConfigured | CloudState::NoKey => return Some(RouterError::NoApiKey),
        CloudState::KeyRefused => return Some(RouterError::KeyRefused),
        CloudState::Offline => return Some(RouterError::Offline),
        CloudState::Ready => {}
    }
    match &s.model {
        ModelStatus::Retired { successor } => Some(RouterError::ModelRetired {
            successor: successor.clone(),
        }),
        ModelStatus::Live | ModelStatus::Unknown => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn situation(policy: RoutePolicy) -> Situation {
        Situation {
            policy,
            confidential: false,
            cloud: CloudState::Ready,
            model: ModelStatus::Live,
            local_ready: true,
            missing: None,
        }
    }

    #[test]
    fn a_local_model_that_cannot_see_is_no_local_route_for_an_image() {
        let blind = |policy| Situation {
            local_ready: false,
            missing: Some(Capability::Vision),
            ..situation(policy)
        };
        let confidential = Situation {
            confidential: true,
            ..blind(RoutePolicy::Auto)
        };
        let err = decide(&confidential).unwrap_err().to_string();
        assert!(
            err.contains("no local vision model: add one, or clear Confidential"),
            "{err}"
        );
        let err = decide(&blind(RoutePolicy::Local)).unwrap_err().to_string();
        assert!(
            err.contains("no local vision model: add one, or use the cloud"),
            "{err}"
        );
        // Auto takes the cloud, which can.
        assert_eq!(
            decide(&blind(RoutePolicy::Auto)).unwrap(),
            RouteReason::AutoCloud
        );
    }

    #[test]
    fn confidential_is_local_whatever_the_policy() {
        for policy in [RoutePolicy::Cloud, RoutePolicy::Auto, RoutePolicy::Local] {
            let s = Situation {
                confidential: true,
                ..situation(policy)
            };
            assert_eq!(decide(&s).unwrap(), RouteReason::Confidential);
            let none = Situation {
                local_ready: false,
                ..s
            };
            assert!(matches!(
                decide(&none),
                Err(RouterError::NoLocalEngine { .. })
            ));
        }
    }

    #[test]
    fn policies_when_everything_is_up() {
        assert_eq!(
            decide(&situation(RoutePolicy::Cloud)).unwrap(),
            RouteReason::PolicyCloud
        );
        assert_eq!(
            decide(&situation(RoutePolicy::Local)).unwrap(),
            RouteReason::PolicyLocal
        );
        assert_eq!(
            decide(&situation(RoutePolicy::Auto)).unwrap(),
            RouteReason::AutoCloud
        );
        let no_local = Situation {
            local_ready: false,
            ..situation(RoutePolicy::Local)
        };
        assert!(matches!(
            decide(&no_local),
            Err(RouterError::NoLocalEngine { .. })
        ));
    }

    #[test]
    fn auto_falls_back_for_each_unavailability() {
        let cases = [
            (CloudState::NoKey, RouteReason::NoKey, RouterError::NoApiKey),
            (
                CloudState::NotConfigured,
                RouteReason::NoKey,
                RouterError::NoApiKey,
            ),
            (
                CloudState::KeyRefused,
                RouteReason::KeyRefused,
                RouterError::KeyRefused,
            ),
            (
                CloudState::Offline,
                RouteReason::Offline,
                RouterError::Offline,
            ),
        ];
        for (cloud, reason, error) in cases {
            let s = Situation {
                cloud,
                ..situation(RoutePolicy::Auto)
            };
            assert_eq!(decide(&s).unwrap(), reason);
            let alone = Situation {
                local_ready: false,
                ..s.clone()
            };
            assert_eq!(decide(&alone).unwrap_err().to_string(), error.to_string());
            let cloud_only = Situation {
                policy: RoutePolicy::Cloud,
                ..s
            };
            assert_eq!(
                decide(&cloud_only).unwrap_err().to_string(),
                error.to_string()
            );
        }
    }

    #[test]
    fn retired_models_go_local_under_auto_and_fail_under_cloud() {
        let successor = Some(ModelId::new("gpt-oss:120b"));
        let s = Situation {
            model: ModelStatus::Retired {
                successor: successor.clone(),
            },
            ..situation(RoutePolicy::Auto)
        };
        assert_eq!(
            decide(&s).unwrap(),
            RouteReason::ModelRetired {
                successor: successor.clone()
            }
        );
        let cloud = Situation {
            policy: RoutePolicy::Cloud,
            ..s
        };
        let err = decide(&cloud).unwrap_err();
        assert!(err.to_string().contains("gpt-oss:120b"), "{err}");
        // An unknown model is the cloud's to judge.
        let unknown = Situation {
            model: ModelStatus::Unknown,
            ..situation(RoutePolicy::Cloud)
        };
        assert_eq!(decide(&unknown).unwrap(), RouteReason::PolicyCloud);
    }

    #[test]
    fn reasons_lead_to_their_route_and_read_well() {
        assert_eq!(RouteReason::AutoCloud.route(), Route::Cloud);
        assert_eq!(RouteReason::OverBudget.route(), Route::Local);
        let r = RouteReason::CloudFailed {
            error: "503".into(),
        };
        assert_eq!(r.to_string(), "auto: the cloud failed (503), ran locally");
    }
}
