//! How faults plug into a run. The pipeline layer owns the upload order: it cuts the seeded plan
//! at the positions the faults name ([`Faults::edges`]) and, for each segment, asks the faults
//! what to do before its first upload, uploads it the way they say, and asks them what to do
//! after its last; a fault may end the uploads there (a restart takes the stack away). Because
//! the edges are upload positions, not times, a replay breaks the same uploads on any machine.
//! Collection and the judgement stay with the caller, which knows what its faults excuse.

use std::collections::BTreeSet;
use std::future::Future;

use crate::workload::PlannedUpload;

/// Whether the uploads go on after a fault edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// The rest of the plan is not uploaded (the fault says why in its own report).
    Stop,
}

/// What a run with faults does around its uploads.
pub trait Faults {
    /// Upload positions (0-based: `n` is "before upload `n`", "after upload `n - 1`") where a
    /// fault starts or ends.
    fn edges(&self) -> BTreeSet<usize>;

    /// Before upload `at`: e.g. bring the pipeline to rest and open the faults that start here.
    fn before_upload(&mut self, at: usize) -> impl Future<Output = Result<(), String>> + Send;

    /// Uploads `segment`, the way the faults open now require (e.g. one by one, each refusal
    /// recorded, while uploads are refused).
    fn upload(
        &mut self,
        segment: &[PlannedUpload],
    ) -> impl Future<Output = Result<(), String>> + Send;

    /// After the uploads before position `at`: close the faults that end here; `Flow::Stop`
    /// ends the uploads.
    fn after_upload(
        &mut self,
        at: usize,
        plan: &[PlannedUpload],
    ) -> impl Future<Output = Result<Flow, String>> + Send;
}

/// The segments `plan` is uploaded in: `[from, to)` between consecutive edges. Pure.
pub fn segments(edges: &BTreeSet<usize>, uploads: usize) -> Vec<(usize, usize)> {
    let mut cuts: BTreeSet<usize> = edges.iter().copied().filter(|&e| e <= uploads).collect();
    cuts.extend([0, uploads]);
    let cuts: Vec<usize> = cuts.into_iter().collect();
    cuts.windows(2).map(|pair| (pair[0], pair[1])).collect()
}

/// Uploads `plan` segment by segment around `faults`' edges; `Flow::Stop` when a fault ended
/// the uploads early.
pub async fn upload_around<F: Faults>(
    faults: &mut F,
    plan: &[PlannedUpload],
) -> Result<Flow, String> {
    for (from, to) in segments(&faults.edges(), plan.len()) {
        faults.before_upload(from).await?;
        faults.upload(&plan[from..to]).await?;
        if faults.after_upload(to, plan).await? == Flow::Stop {
            return Ok(Flow::Stop);
        }
    }
    Ok(Flow::Continue)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_is_cut_at_every_edge_inside_it() {
        assert_eq!(segments(&BTreeSet::new(), 4), [(0, 4)]);
        assert_eq!(segments(&[2, 5].into(), 8), [(0, 2), (2, 5), (5, 8)]);
        // An edge at either end or beyond the plan makes no empty segment.
        assert_eq!(segments(&[0, 8, 9].into(), 8), [(0, 8)]);
        assert_eq!(segments(&[0].into(), 0), Vec::<(usize, usize)>::new());
    }

    /// Records the hooks in order; stops after the edge it is told to.
    struct Recorder {
        edges: BTreeSet<usize>,
        stop_at: Option<usize>,
        calls: Vec<String>,
    }

    impl Faults for Recorder {
        fn edges(&self) -> BTreeSet<usize> {
            self.edges.clone()
        }

        async fn before_upload(&mut self, at: usize) -> Result<(), String> {
            self.calls.push(format!("before {at}"));
            Ok(())
        }

        async fn upload(&mut self, segment: &[PlannedUpload]) -> Result<(), String> {
            let indices: Vec<String> = segment.iter().map(|u| u.index.to_string()).collect();
            self.calls.push(format!("upload {}", indices.join(",")));
            Ok(())
        }

        async fn after_upload(&mut self, at: usize, _: &[PlannedUpload]) -> Result<Flow, String> {
            self.calls.push(format!("after {at}"));
            Ok(if self.stop_at == Some(at) {
                Flow::Stop
            } else {
                Flow::Continue
            })
        }
    }

    fn plan(n: usize) -> Vec<PlannedUpload> {
        (0..n)
            .map(|index| PlannedUpload {
                index,
                key: format!("k{index}"),
                size: 1,
                content_type: "text/plain".into(),
                content_seed: 0,
                multipart: false,
                overwrites: None,
                same_content_as: None,
            })
            .collect()
    }

    #[tokio::test]
    async fn hooks_run_in_upload_order_and_a_stop_ends_the_uploads() {
        let mut faults = Recorder {
            edges: [1, 3].into(),
            stop_at: None,
            calls: Vec::new(),
        };
        assert_eq!(
            upload_around(&mut faults, &plan(4)).await,
            Ok(Flow::Continue)
        );
        assert_eq!(
            faults.calls,
            [
                "before 0",
                "upload 0",
                "after 1",
                "before 1",
                "upload 1,2",
                "after 3",
                "before 3",
                "upload 3",
                "after 4"
            ]
        );
        let mut stopping = Recorder {
            edges: [2].into(),
            stop_at: Some(2),
            calls: Vec::new(),
        };
        assert_eq!(upload_around(&mut stopping, &plan(4)).await, Ok(Flow::Stop));
        assert_eq!(stopping.calls, ["before 0", "upload 0,1", "after 2"]);
    }
}
