//! What wraps every call: its deadline, panic isolation and metrics.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tonic::Status;

use crate::deadline::{NeutralAnswer, OnTimeout, TimeoutAnswers};
use crate::hook::Hook;
use crate::metrics::{Classify, Metrics, Outcome};

/// The server-wide settings every call is run under.
#[derive(Default)]
pub(crate) struct Supervision {
    pub(crate) metrics: Option<Arc<Metrics>>,
    pub(crate) on_timeout: TimeoutAnswers,
    /// A limit of the server's own, on top of the caller's `grpc-timeout`.
    pub(crate) handler_timeout: Option<Duration>,
    pub(crate) max_request_bytes: Option<usize>,
}

pin_project_lite::pin_project! {
    /// One call's future, run under its deadline, with a panic failing that
    /// call alone (`INTERNAL`) and the outcome counted.
    pub(crate) struct Supervised<F> {
        #[pin]
        future: F,
        // The timer starts only when the handlers first have to wait: most
        // calls finish in their first poll and never touch the timer wheel.
        budget: Option<Duration>,
        timer: Option<Pin<Box<tokio::time::Sleep>>>,
        hook: Hook,
        on_timeout: OnTimeout,
        metrics: Option<(Arc<Metrics>, Instant)>,
    }
}

impl<F: Future> Supervised<F> {
    pub(crate) fn new(
        future: F,
        hook: Hook,
        budget: Option<Duration>,
        supervision: &Supervision,
    ) -> Self {
        Supervised {
            future,
            budget,
            timer: None,
            hook,
            on_timeout: supervision.on_timeout.get(hook),
            metrics: supervision
                .metrics
                .clone()
                .map(|metrics| (metrics, Instant::now())),
        }
    }
}

impl<Resp, F> Future for Supervised<F>
where
    F: Future<Output = Result<Resp, Status>>,
    Resp: Classify + NeutralAnswer,
{
    type Output = Result<Resp, Status>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let future = this.future;
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx)));
        let (result, outcome) = match polled {
            Ok(Poll::Pending) => {
                let Some(budget) = *this.budget else {
                    return Poll::Pending;
                };
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(budget)));
                if timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                timed_out(*this.hook, *this.on_timeout)
            }
            Ok(Poll::Ready(Ok(response))) => {
                let outcome = response.outcome();
                (Ok(response), outcome)
            }
            Ok(Poll::Ready(Err(status))) => (Err(status), Outcome::Error),
            Err(panic) => {
                let reason = panic
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                    .unwrap_or("no message");
                tracing::error!(target: "exhook", hook = %this.hook, "handler panicked: {reason}");
                if let Some((metrics, _)) = this.metrics {
                    metrics.panicked();
                }
                (
                    Err(Status::internal(format!("handler panicked: {reason}"))),
                    Outcome::Error,
                )
            }
        };
        if let Some((metrics, started)) = this.metrics.take() {
            metrics.finished(*this.hook, outcome, started.elapsed());
        }
        Poll::Ready(result)
    }
}

fn timed_out<Resp: NeutralAnswer>(
    hook: Hook,
    on_timeout: OnTimeout,
) -> (Result<Resp, Status>, Outcome) {
    tracing::warn!(target: "exhook", %hook, "handlers outlived the call's deadline");
    match (on_timeout, Resp::neutral()) {
        (OnTimeout::Ignore, Some(neutral)) => (Ok(neutral), Outcome::Timeout),
        _ => (
            Err(Status::deadline_exceeded(format!(
                "{hook} handlers outlived the deadline"
            ))),
            Outcome::Timeout,
        ),
    }
}
