//! The secure stack the harness deploys, as pure data: the run id ([`run_id`]), resource
//! names ([`names`], checked against each service's rules by [`rules`]), ARNs and policy
//! documents ([`policy`]), the runner's own policy and role ([`runner`]) and the ordered API
//! calls of a deploy ([`plan`]).
//!
//! Nothing here does I/O, so every name rule, policy statement and call order is unit-tested
//! here, and the AWS-facing deploy code only carries these values out.

pub mod docs;
pub mod names;
pub mod plan;
pub mod policy;
pub mod rules;
pub mod run_id;
pub mod runner;

pub use names::{
    DEFAULT_PREFIX, RunId, RunIdError, StackNames, TAG_KEY, TAG_MANAGED_BY, TAG_REGION, is_ours,
    run_id_from_tags,
};
pub use plan::{PlannedCall, deploy_plan, render_plan};
pub use policy::{StackArns, has_wildcard_resource, wildcard_actions};
