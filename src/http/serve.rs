//! The accept loop: what `axum::serve` does (HTTP/1 and HTTP/2, WebSocket upgrades,
//! `ConnectInfo`, graceful shutdown), plus the defences against slow and greedy clients.
//!
//! `axum::serve` cannot do this: it builds hyper's connection builder itself, without a timer,
//! so hyper's `header_read_timeout` never fires (a client trickling one header line every few
//! seconds, or sending nothing, kept its connection forever), and it has no hook per accepted
//! connection where a per-address cap or an idle timeout could go.

use std::{io, net::SocketAddr, sync::Arc, time::Duration};

use axum::{Router, extract::ConnectInfo, http::Request};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto::Builder,
    service::TowerToHyperService,
};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
    task::JoinSet,
};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::per_client::{PerClient, Slot};
use crate::config::Config;

/// Most headers hyper itself accepts. Above it hyper answers 431 on its own, without our
/// headers; below it the edge layer answers 431 at its (lower) limit, with them.
pub const HYPER_MAX_HEADERS: usize = 400;

/// Serves `router` on `listener` until `shutdown` is cancelled, then stops accepting, lets each
/// connection finish its requests, and returns once all of them have closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: &Config,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let limits = config.http;
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_headers(HYPER_MAX_HEADERS);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let per_client = PerClient::default();
    let mut connections = JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e, &shutdown).await;
                    continue;
                }
            },
            // Reap finished connections as we go, so the set holds only open ones.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            _ = shutdown.cancelled() => break,
        };
        let ip = peer.ip().to_canonical();
        // Behind a proxy every client shares its address: only its own limits apply there.
        let proxy = config.trusted_proxies.iter().any(|net| net.contains(&ip));
        let slot = match proxy {
            true => None,
            false => match per_client.take(ip, limits.max_connections_per_client) {
                Some(slot) => Some(slot),
                None => {
                    tracing::debug!(%ip, "too many connections from one address: closed");
                    continue;
                }
            },
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "setting TCP_NODELAY");
        }
        connections.spawn(connection(
            builder.clone(),
            stream,
            peer,
            router.clone(),
            (limits.idle_timeout, shutdown.clone()),
            slot,
        ));
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// What `axum::serve` does too: errors a client causes (it hung up before we accepted) are
/// skipped; others (out of file descriptors) are logged and retried after a pause.
async fn accept_failed(e: io::Error, shutdown: &CancellationToken) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection");
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        _ = shutdown.cancelled() => {}
    }
}

/// Serves one connection. It is shut down gracefully (requests in flight finish) when the
/// server stops or when no request has been in flight for `idle`, which also ends one that
/// never sends a request at all; `_slot` holds its place in the per-address count.
async fn connection(
    builder: Arc<Builder<TokioExecutor>>,
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    (idle, shutdown): (Duration, CancellationToken),
    _slot: Option<Slot>,
) {
    let (in_flight, mut activity) = watch::channel(0usize);
    let in_flight = Arc::new(in_flight);
    let service = tower::service_fn(move |mut request: Request<Incoming>| {
        // What `into_make_service_with_connect_info` would insert.
        request.extensions_mut().insert(ConnectInfo(peer));
        let busy = Busy::start(in_flight.clone());
        let router = router.clone();
        async move {
            let response = router.oneshot(request).await;
            drop(busy);
            response
        }
    });
    let connection = builder
        .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service));
    tokio::pin!(connection);
    let mut closing = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, %peer, "connection ended with an error");
                }
                return;
            }
            _ = shutdown.cancelled(), if !closing => {
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
            _ = idle_for(&mut activity, idle), if !closing => {
                tracing::debug!(%peer, "idle connection closed");
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Completes once no request has been in flight for `idle`.
async fn idle_for(activity: &mut watch::Receiver<usize>, idle: Duration) {
    loop {
        if *activity.borrow_and_update() == 0 {
            if tokio::time::timeout(idle, activity.changed())
                .await
                .is_err()
            {
                return;
            }
        } else if activity.changed().await.is_err() {
            // The service is gone: the connection future ends on its own.
            return std::future::pending().await;
        }
    }
}

/// One request in flight, from the moment its head is read until its response is ready.
struct Busy(Arc<watch::Sender<usize>>);

impl Busy {
    fn start(in_flight: Arc<watch::Sender<usize>>) -> Self {
        in_flight.send_modify(|n| *n += 1);
        Busy(in_flight)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}
