//! HTTP routes that inputs add to the agent's HTTP API: how receivers (ddtrace, Zipkin, and
//! later OpenTelemetry over HTTP, RUM, ...) take data on the API's address, as the original
//! serves them on its 9529 port.
//!
//! An input registers its routes from `run` with [`Routes::register`] and keeps the
//! [`RouteHandle`] for as long as it serves them: dropping the handle (the input stopped,
//! crashed or was reloaded away) removes them. A path and method belong to one registration at
//! a time; a second input asking for it gets [`RouteError::Taken`]. The API's own routes
//! (`/v1/write/...`, `/v1/ping`, ...) come first: a registered route of the same path is never
//! reached.
//!
//! The API reads the request body for the route — within the route's `max_body`, decompressed
//! (`Content-Encoding: gzip` or `deflate`), within its time limit — and answers a body that is
//! too large (413) or unreadable (400) itself, recording the error on the registering input's
//! stats. The handler gets the whole body as [`Bytes`]. Registered paths are public (reachable
//! from non-loopback clients, as the original makes every route an enabled input registers),
//! and have their own rows in the API's request stats.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;

use super::BoxFuture;
use crate::stats::InputStats;

/// A request for an input's route: the body already read and decompressed.
#[derive(Debug)]
pub struct RouteRequest {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The client's address (`X-Forwarded-For`, `X-Real-IP`, then the peer); `None` over a
    /// Unix socket.
    pub client_ip: Option<IpAddr>,
}

/// What answers a route.
pub type Handler = Arc<dyn Fn(RouteRequest) -> BoxFuture<Response> + Send + Sync>;

/// Told when the API refused a request's body for the route (too large, unreadable), with the
/// request's headers and the reason: a receiver counts what it lost.
pub type Refused = Arc<dyn Fn(&HeaderMap, &str) + Send + Sync>;

/// One route an input serves.
#[derive(Clone)]
pub struct Route {
    pub method: Method,
    /// The exact path (`/v0.4/traces`).
    pub path: String,
    /// Largest body accepted, in bytes after decompression (0: the route takes no body).
    pub max_body: usize,
    pub handler: Handler,
    pub on_refused: Option<Refused>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

impl Route {
    /// A route answered by `f`.
    pub fn new<F, Fut>(method: Method, path: impl Into<String>, max_body: usize, f: F) -> Route
    where
        F: Fn(RouteRequest) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Response> + Send + 'static,
    {
        Route {
            method,
            path: path.into(),
            max_body,
            handler: Arc::new(move |r| Box::pin(f(r))),
            on_refused: None,
        }
    }

    /// This route, with `f` told of the bodies the API refuses for it.
    pub fn on_refused(mut self, f: Refused) -> Route {
        self.on_refused = Some(f);
        self
    }
}

/// Why routes could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("{method} {path} is already served by input `{owner}`")]
    Taken {
        method: Method,
        path: String,
        owner: String,
    },
    #[error("route path `{0}` must start with `/` and hold no spaces, `?` or `#`")]
    BadPath(String),
}

/// Whether `path` can be a route: absolute, without a query, fragment or white space.
pub fn valid_path(path: &str) -> bool {
    path.starts_with('/') && !path.contains(['?', '#']) && !path.chars().any(char::is_whitespace)
}

/// A registered route as the API finds it.
#[derive(Clone)]
pub struct Found {
    pub handler: Handler,
    pub max_body: usize,
    /// The registering input's stats (errors of reading bodies are recorded there).
    pub owner: Arc<InputStats>,
    pub on_refused: Option<Refused>,
}

/// What a lookup found.
pub enum Lookup {
    Found(Found),
    /// The path is served, but not with this method (405); the methods it takes.
    WrongMethod(Vec<Method>),
    Missing,
}

struct Entry {
    id: u64,
    found: Found,
}

#[derive(Default)]
struct Inner {
    by_path: RwLock<HashMap<String, Vec<(Method, Entry)>>>,
    next_id: AtomicU64,
}

/// The routes inputs serve on the HTTP API. Cheap to clone; the API and every input share one.
#[derive(Clone, Default)]
pub struct Routes {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Routes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Routes")
            .field("paths", &self.paths())
            .finish()
    }
}

impl Routes {
    pub fn new() -> Routes {
        Routes::default()
    }

    /// Registers every route of `routes` for `owner`, or none of them. They are served until
    /// the returned handle is dropped.
    pub fn register(
        &self,
        owner: Arc<InputStats>,
        routes: Vec<Route>,
    ) -> Result<RouteHandle, RouteError> {
        let id = self.inner.next_id.fetch_add(1, Relaxed) + 1;
        let mut map = self
            .inner
            .by_path
            .write()
            .unwrap_or_else(|e| e.into_inner());
        for (i, r) in routes.iter().enumerate() {
            if !valid_path(&r.path) {
                return Err(RouteError::BadPath(r.path.clone()));
            }
            let taken = map
                .get(&r.path)
                .and_then(|v| v.iter().find(|(m, _)| *m == r.method))
                .map(|(_, e)| e.found.owner.name().to_string())
                .or_else(|| {
                    routes[..i]
                        .iter()
                        .any(|o| o.path == r.path && o.method == r.method)
                        .then(|| owner.name().to_string())
                });
            if let Some(o) = taken {
                return Err(RouteError::Taken {
                    method: r.method.clone(),
                    path: r.path.clone(),
                    owner: o,
                });
            }
        }
        let mut keys = Vec::with_capacity(routes.len());
        for r in routes {
            keys.push((r.method.clone(), r.path.clone()));
            map.entry(r.path).or_default().push((
                r.method,
                Entry {
                    id,
                    found: Found {
                        handler: r.handler,
                        max_body: r.max_body,
                        owner: owner.clone(),
                        on_refused: r.on_refused,
                    },
                },
            ));
        }
        Ok(RouteHandle {
            routes: self.clone(),
            id,
            keys,
        })
    }

    /// The route for `method` and `path`.
    pub fn lookup(&self, method: &Method, path: &str) -> Lookup {
        let map = self.inner.by_path.read().unwrap_or_else(|e| e.into_inner());
        let Some(v) = map.get(path) else {
            return Lookup::Missing;
        };
        // HEAD is answered by a GET route.
        let found = v
            .iter()
            .find(|(m, _)| m == method)
            .or_else(|| {
                (*method == Method::HEAD)
                    .then(|| v.iter().find(|(m, _)| *m == Method::GET))
                    .flatten()
            })
            .map(|(_, e)| e.found.clone());
        match found {
            Some(f) => Lookup::Found(f),
            None if v.is_empty() => Lookup::Missing,
            None => Lookup::WrongMethod(v.iter().map(|(m, _)| m.clone()).collect()),
        }
    }

    /// Whether an input serves `path` (with any method).
    pub fn contains(&self, path: &str) -> bool {
        self.inner
            .by_path
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
            .is_some_and(|v| !v.is_empty())
    }

    /// Every served path with its methods and input, sorted by path.
    pub fn paths(&self) -> Vec<(String, Vec<Method>, String)> {
        let map = self.inner.by_path.read().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<_> = map
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(p, v)| {
                (
                    p.clone(),
                    v.iter().map(|(m, _)| m.clone()).collect(),
                    v[0].1.found.owner.name().to_string(),
                )
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn remove(&self, id: u64, keys: &[(Method, String)]) {
        let mut map = self
            .inner
            .by_path
            .write()
            .unwrap_or_else(|e| e.into_inner());
        for (m, p) in keys {
            if let Some(v) = map.get_mut(p) {
                v.retain(|(vm, e)| !(vm == m && e.id == id));
                if v.is_empty() {
                    map.remove(p);
                }
            }
        }
    }
}

/// Registered routes; dropping it removes them.
#[must_use = "the routes are removed when the handle is dropped"]
pub struct RouteHandle {
    routes: Routes,
    id: u64,
    keys: Vec<(Method, String)>,
}

impl std::fmt::Debug for RouteHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteHandle")
            .field("keys", &self.keys)
            .finish()
    }
}

impl Drop for RouteHandle {
    fn drop(&mut self) {
        self.routes.remove(self.id, &self.keys);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;

    fn route(method: Method, path: &str) -> Route {
        Route::new(method, path, 10, |_r| async {
            axum::http::StatusCode::OK.into_response()
        })
    }

    fn owner(name: &str) -> Arc<InputStats> {
        Arc::new(InputStats::new(name))
    }

    #[test]
    fn routes_are_served_until_their_handle_drops() {
        let routes = Routes::new();
        let h = routes
            .register(
                owner("ddtrace"),
                vec![
                    route(Method::POST, "/v0.4/traces"),
                    route(Method::GET, "/info"),
                ],
            )
            .unwrap();
        assert!(matches!(
            routes.lookup(&Method::POST, "/v0.4/traces"),
            Lookup::Found(f) if f.owner.name() == "ddtrace" && f.max_body == 10
        ));
        assert!(matches!(
            routes.lookup(&Method::HEAD, "/info"),
            Lookup::Found(_)
        ));
        assert!(matches!(
            routes.lookup(&Method::GET, "/v0.4/traces"),
            Lookup::WrongMethod(m) if m == vec![Method::POST]
        ));
        assert!(matches!(
            routes.lookup(&Method::GET, "/nope"),
            Lookup::Missing
        ));
        assert!(routes.contains("/info"));
        assert_eq!(routes.paths().len(), 2);
        drop(h);
        assert!(!routes.contains("/info"));
        assert!(routes.paths().is_empty());
    }

    #[test]
    fn a_taken_route_refuses_the_whole_registration() {
        let routes = Routes::new();
        let _a = routes
            .register(owner("zipkin"), vec![route(Method::POST, "/api/v2/spans")])
            .unwrap();
        let e = routes
            .register(
                owner("other"),
                vec![
                    route(Method::POST, "/x"),
                    route(Method::POST, "/api/v2/spans"),
                ],
            )
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "POST /api/v2/spans is already served by input `zipkin`"
        );
        assert!(!routes.contains("/x"), "none of a refused registration");
        // Another method on the same path is free.
        let _b = routes
            .register(owner("other"), vec![route(Method::PUT, "/api/v2/spans")])
            .unwrap();
        let dup = routes
            .register(
                owner("third"),
                vec![route(Method::GET, "/y"), route(Method::GET, "/y")],
            )
            .unwrap_err();
        assert!(matches!(dup, RouteError::Taken { .. }));
        assert!(matches!(
            routes.register(owner("bad"), vec![route(Method::GET, "v1/x")]),
            Err(RouteError::BadPath(_))
        ));
    }

    #[test]
    fn dropping_one_handle_keeps_the_other_inputs_routes() {
        let routes = Routes::new();
        let a = routes
            .register(owner("a"), vec![route(Method::POST, "/p")])
            .unwrap();
        let _b = routes
            .register(owner("b"), vec![route(Method::GET, "/p")])
            .unwrap();
        drop(a);
        assert!(matches!(
            routes.lookup(&Method::GET, "/p"),
            Lookup::Found(_)
        ));
        assert!(matches!(
            routes.lookup(&Method::POST, "/p"),
            Lookup::WrongMethod(_)
        ));
    }
}
