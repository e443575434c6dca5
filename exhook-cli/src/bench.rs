//! `exhook bench`: EMQX-like load. Like an EMQX node, it keeps a few
//! long-lived HTTP/2 connections (`pool_size`), sends every call of one
//! client over the same connection, and runs many clients at once.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use exhook_hooks::Hook;
use hdrhistogram::Histogram;
use http::uri::PathAndQuery;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tonic::Status;
use tonic::transport::Channel;

use crate::emqx;
use crate::exit::{self, Exit};
use crate::load;
use crate::output::Out;
use crate::request::{self, Event};
use crate::target::Common;
use crate::{h2, wire};

/// Which calls to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Load {
    /// message.publish only.
    Publish,
    /// client.authenticate only.
    Authenticate,
    /// Each client in turn: authenticate, authorize, publish.
    Mixed,
}

impl Load {
    fn hooks(self) -> &'static [Hook] {
        match self {
            Load::Publish => &[Hook::MessagePublish],
            Load::Authenticate => &[Hook::ClientAuthenticate],
            Load::Mixed => &[
                Hook::ClientAuthenticate,
                Hook::ClientAuthorize,
                Hook::MessagePublish,
            ],
        }
    }
}

/// Arguments of `exhook bench`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The provider: http://host:port or https://host:port.
    url: String,
    /// The calls to send.
    #[arg(long, value_enum, default_value = "publish")]
    hook: Load,
    /// HTTP/2 connections, as EMQX's pool_size.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1024))]
    connections: u32,
    /// Clients calling at once, each on one connection, one call at a time
    /// (default: 16 per connection).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    concurrency: Option<u32>,
    /// How long to run.
    #[arg(long, value_parser = humantime::parse_duration, conflicts_with = "calls")]
    duration: Option<Duration>,
    /// How many calls to make.
    #[arg(long)]
    calls: Option<u64>,
    /// Calls per second to offer, spread evenly; latency is then measured
    /// from when each call was due, so a slow answer also counts against the
    /// calls it held up (coordinated omission).
    #[arg(long)]
    rate: Option<f64>,
    /// The topic of published messages; by default one that the provider's
    /// message.publish filters match (EMQX sends no other).
    #[arg(long)]
    topic: Option<String>,
    /// Payload bytes of each published message.
    #[arg(long, default_value_t = 256)]
    payload_size: usize,
}

/// The stop condition, shared by the workers.
struct Plan {
    start: Instant,
    calls: Option<u64>,
    until: Option<Instant>,
    interval: Option<Duration>,
    tickets: AtomicU64,
    done: AtomicU64,
    errors: AtomicU64,
    stop: AtomicBool,
    /// Every answered call's latency in nanoseconds. One histogram for all
    /// clients: one per client would take hundreds of KiB each, and the
    /// cache misses of recording into hundreds of them cost more than the
    /// uncontended lock (the runtime has one thread).
    latency: Mutex<Histogram<u64>>,
}

impl Plan {
    /// The next call's number and, with a rate, when it is due; `None`
    /// when the run is over.
    fn next(&self) -> Option<(u64, Option<Instant>)> {
        if self.stop.load(Relaxed) {
            return None;
        }
        let ticket = self.tickets.fetch_add(1, Relaxed);
        if self.calls.is_some_and(|calls| ticket >= calls) {
            return None;
        }
        let due = self
            .interval
            .map(|interval| self.start + interval.mul_f64(ticket as f64));
        let now = Instant::now();
        if self
            .until
            .is_some_and(|until| due.unwrap_or(now) >= until || now >= until)
        {
            return None;
        }
        Some((ticket, due))
    }
}

/// How calls travel: the `h2` crate directly for `http://`, tonic's client
/// for TLS.
#[derive(Clone)]
enum Link {
    H2(h2::Connection),
    Tonic(Channel),
}

/// A request as its link sends it, prepared once.
enum Prepared {
    H2(h2::Call),
    Tonic(PathAndQuery, Bytes),
}

impl Link {
    fn prepare(
        &self,
        path: PathAndQuery,
        body: Bytes,
        timeout: Duration,
    ) -> Result<Prepared, String> {
        Ok(match self {
            Link::H2(connection) => {
                Prepared::H2(connection.call(&path, &body, &h2::grpc_timeout(timeout))?)
            }
            Link::Tonic(_) => Prepared::Tonic(path, body),
        })
    }

    /// One call; the answer's message. The caller bounds the wait.
    async fn call(&mut self, request: &Prepared, timeout: Duration) -> Result<Bytes, Status> {
        match (self, request) {
            (Link::H2(connection), Prepared::H2(call)) => connection.unary(call).await,
            (Link::Tonic(channel), Prepared::Tonic(path, body)) => {
                wire::unary(channel, path.clone(), body.clone(), timeout).await
            }
            _ => Err(Status::internal("a request prepared for another link")),
        }
    }
}

pub(crate) async fn run(args: Args, common: &Common, out: Out) -> Exit {
    let json_out = out.json || !std::io::stdout().is_terminal();
    if args
        .rate
        .is_some_and(|rate| !(rate > 0.0 && rate.is_finite()))
    {
        return exit::usage("--rate must be a positive number of calls per second");
    }
    let channel = match common.connect(&args.url).await {
        Ok(channel) => channel,
        Err(error) => return exit::unreachable(out, &error),
    };
    let mut links = Vec::new();
    match authority(&args.url).filter(|_| !common.uses_tls(&args.url)) {
        Some(authority) => {
            for _ in 0..args.connections {
                match h2::Connection::open(&authority).await {
                    Ok(connection) => links.push(Link::H2(connection)),
                    Err(error) => return exit::unreachable(out, &error),
                }
            }
        }
        None => {
            links.push(Link::Tonic(channel.clone()));
            for _ in 1..args.connections {
                match common.connect(&args.url).await {
                    Ok(channel) => links.push(Link::Tonic(channel)),
                    Err(error) => return exit::unreachable(out, &error),
                }
            }
        }
    }
    let base = Event {
        cluster_name: common.cluster_name.clone(),
        ..Event::default()
    };
    let attempts = load::load_any(&channel, common.proto.version(), &base, common.timeout).await;
    let attempt = attempts.last().expect("at least one version is tried");
    let loaded = match &attempt.answer {
        Ok(loaded) => loaded,
        Err(status) => {
            let error = format!(
                "OnProviderLoaded on {}: {}",
                attempt.version,
                emqx::failure(status)
            );
            return exit::unreachable(out, &error);
        }
    };
    let topic = args
        .topic
        .clone()
        .unwrap_or_else(|| loaded.publish_topic("bench/exhook"));
    let version = attempt.version;
    let concurrency = args.concurrency.unwrap_or(args.connections * 16);
    let duration = args.duration.or(if args.calls.is_none() {
        Some(Duration::from_secs(30))
    } else {
        None
    });
    let start = Instant::now();
    let plan = Arc::new(Plan {
        start,
        calls: args.calls,
        until: duration.map(|d| start + d),
        interval: args.rate.map(|rate| Duration::from_secs_f64(1.0 / rate)),
        tickets: AtomicU64::new(0),
        done: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        latency: Mutex::new(
            Histogram::new_with_bounds(1, 120_000_000_000, 3).expect("valid histogram bounds"),
        ),
    });
    let payload = Bytes::from(vec![b'x'; args.payload_size]);
    let mut workers = Vec::new();
    let mut request_bytes = BTreeMap::new();
    for client in 0..concurrency {
        // Client ids of one width, so that every client's requests are as long.
        let event = Event {
            clientid: format!("bench-{client:06}"),
            username: format!("bench-{client:06}"),
            topic: topic.clone(),
            payload: payload.clone(),
            ..base.clone()
        };
        // Every call of one client goes over the same connection.
        let link = links[client as usize % links.len()].clone();
        let mut calls = Vec::new();
        for hook in args.hook.hooks() {
            let body = request::encode(*hook, version, &event);
            if client == 0 {
                request_bytes.insert(hook.name(version), body.len());
            }
            match link.prepare(wire::path(*hook, version), body, common.timeout) {
                Ok(prepared) => calls.push((*hook, prepared)),
                Err(error) => return exit::usage(&error),
            }
        }
        workers.push(tokio::spawn(worker(
            link,
            calls,
            plan.clone(),
            common.timeout,
        )));
    }
    let bar = progress(out.interactive() && !json_out, &plan, duration);
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for worker in workers {
        if let Ok(seen) = worker.await {
            for (code, n) in seen {
                *errors.entry(code).or_default() += n;
            }
        }
    }
    let latency = std::mem::replace(
        &mut *plan.latency.lock().unwrap_or_else(PoisonError::into_inner),
        Histogram::new(1).expect("valid histogram bounds"),
    );
    let elapsed = start.elapsed();
    plan.stop.store(true, Relaxed);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let ok = latency.len();
    let failed: u64 = errors.values().sum();
    let rate = (ok + failed) as f64 / elapsed.as_secs_f64();
    let us = |q: f64| latency.value_at_quantile(q) as f64 / 1e3;
    if json_out {
        out.print_json(&json!({
            "url": args.url, "version": version.to_string(), "hook": format!("{:?}", args.hook).to_lowercase(),
            "connections": args.connections, "concurrency": concurrency, "offered_rate": args.rate,
            "coordinated_omission_corrected": args.rate.is_some(),
            "request_bytes": request_bytes, "calls": ok + failed, "errors": errors, "seconds": elapsed.as_secs_f64(), "calls_per_second": rate,
            "latency_us": { "p50": us(0.5), "p90": us(0.9), "p99": us(0.99), "p99.9": us(0.999), "max": latency.max() as f64 / 1e3, "mean": latency.mean() / 1e3 },
        }));
    } else {
        println!(
            "{} {} on {version}: {} connections, {concurrency} clients{}",
            out.bold("bench"),
            args.url,
            args.connections,
            args.rate
                .map(|r| format!(", {r} calls/s offered (latency from when each call was due)"))
                .unwrap_or_default()
        );
        println!(
            "  {} calls in {:.2} s: {} calls/s",
            ok + failed,
            elapsed.as_secs_f64(),
            out.bold(&format!("{rate:.0}"))
        );
        for (code, n) in &errors {
            println!("  {}", out.bad(&format!("{n} failed with {code}")));
        }
        println!(
            "  latency p50 {:.0} µs, p99 {:.0} µs, p99.9 {:.0} µs, max {:.0} µs",
            us(0.5),
            us(0.99),
            us(0.999),
            latency.max() as f64 / 1e3
        );
        print_histogram(out, &latency);
    }
    if failed == 0 {
        exit::OK
    } else {
        exit::PROBLEMS
    }
}

/// One client: calls in turn until the plan says stop. A call counts as
/// answered only when EMQX could read its answer. Returns the failures.
async fn worker(
    mut link: Link,
    calls: Vec<(Hook, Prepared)>,
    plan: Arc<Plan>,
    timeout: Duration,
) -> BTreeMap<String, u64> {
    let mut errors = BTreeMap::new();
    // One timer for all calls: moving its deadline later is cheap, a new
    // timer per call is not.
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut turn = 0;
    while let Some((_, due)) = plan.next() {
        if let Some(due) = due {
            tokio::time::sleep_until(due.into()).await;
        }
        let (hook, request) = &calls[turn % calls.len()];
        turn += 1;
        let sent = Instant::now();
        // With a rate, latency counts from when the call was due.
        let began = due.unwrap_or(sent);
        deadline.as_mut().reset((sent + timeout).into());
        let answer = tokio::select! {
            biased;
            answer = link.call(request, timeout) => answer,
            () = &mut deadline => Err(Status::deadline_exceeded("request_timeout")),
        };
        let checked = match answer {
            Ok(message) => emqx::readable(*hook, message),
            Err(status) => Err(format!("{:?}", status.code())),
        };
        match checked {
            Ok(()) => {
                let nanos = u64::try_from(began.elapsed().as_nanos()).unwrap_or(u64::MAX);
                let mut latency = plan.latency.lock().unwrap_or_else(PoisonError::into_inner);
                let _ = latency.record(nanos.max(1));
            }
            Err(error) => {
                plan.errors.fetch_add(1, Relaxed);
                *errors.entry(error).or_default() += 1;
            }
        }
        plan.done.fetch_add(1, Relaxed);
    }
    errors
}

/// `host:port` of an `http://` URL.
fn authority(url: &str) -> Option<String> {
    let uri: http::Uri = url.parse().ok()?;
    (uri.scheme_str() == Some("http"))
        .then(|| uri.authority().map(ToString::to_string))
        .flatten()
}

/// A progress bar on standard error, updated ten times a second.
fn progress(show: bool, plan: &Arc<Plan>, duration: Option<Duration>) -> Option<ProgressBar> {
    if !show {
        return None;
    }
    let bar = match (plan.calls, duration) {
        (Some(calls), _) => ProgressBar::new(calls).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} calls, {per_sec}, {msg} ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        (None, Some(duration)) => ProgressBar::new(duration.as_secs().max(1)).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} s, {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        (None, None) => return None,
    };
    let (ticker, plan) = (bar.clone(), plan.clone());
    tokio::spawn(async move {
        while !plan.stop.load(Relaxed) && !ticker.is_finished() {
            let done = plan.done.load(Relaxed);
            let errors = plan.errors.load(Relaxed);
            if plan.calls.is_some() {
                ticker.set_position(done);
                ticker.set_message(format!("{errors} errors"));
            } else {
                ticker.set_position(plan.start.elapsed().as_secs());
                ticker.set_message(format!("{done} calls, {errors} errors"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    Some(bar)
}

/// The latency distribution as text: one bar per quantile band.
fn print_histogram(out: Out, latency: &Histogram<u64>) {
    let bands = [0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1.0];
    let max = latency.max().max(1) as f64;
    for q in bands {
        let value = latency.value_at_quantile(q) as f64;
        let width = ((value / max) * 40.0).ceil() as usize;
        println!(
            "  {:>8} {:>10.0} µs {}",
            format!("p{}", q * 100.0),
            value / 1e3,
            out.dim(&"#".repeat(width.max(1)))
        );
    }
}
