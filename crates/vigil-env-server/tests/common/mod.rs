//! Shared helpers: a mock-environment server on 127.0.0.1 and a raw JSON client that keeps
//! status codes, so error paths can be checked.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use serde_json::Value;
use tokio::net::TcpListener;
use vigil_env_server::{EnvServer, ServerConfig};
use vigil_testkit::mock::{ConstantPolicy, MockEnv};

/// Starts `server` on a free port of 127.0.0.1 in the current runtime; returns its base URL.
pub async fn spawn(server: EnvServer) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(server.serve(listener, std::future::pending()));
    format!("http://{addr}")
}

/// A mock server (4 tasks per stage and split) with two demo policies.
pub async fn mock(config: ServerConfig) -> Raw {
    let server = EnvServer::new(Arc::new(MockEnv::new(4)), config)
        .expect("server")
        .with_demo_policy("always_ok", Box::new(ConstantPolicy::new("always_ok", "ok")))
        .expect("policy")
        .with_demo_policy("markup", Box::new(ConstantPolicy::new("markup", "<script>alert('x')</script>")))
        .expect("policy");
    Raw::new(spawn(server).await)
}

/// Sends requests and returns `(status, body as JSON or string)`.
#[derive(Clone)]
pub struct Raw {
    pub base: String,
    http: reqwest::Client,
}

impl Raw {
    pub fn new(base: String) -> Self {
        Self { base, http: reqwest::Client::builder().no_proxy().build().expect("client") }
    }

    async fn go(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let res = req.send().await.expect("send");
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.go(self.http.get(format!("{}{path}", self.base))).await
    }

    pub async fn post(&self, path: &str, body: &str) -> (u16, Value) {
        self.go(self.http.post(format!("{}{path}", self.base)).body(body.to_string())).await
    }

    pub async fn post_json(&self, path: &str, body: Value) -> (u16, Value) {
        self.post(path, &body.to_string()).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.go(self.http.delete(format!("{}{path}", self.base))).await
    }

    /// The `error` message of a failed request, checking status and JSON shape.
    pub fn error(resp: &(u16, Value), status: u16) -> String {
        assert_eq!(resp.0, status, "unexpected status; body: {}", resp.1);
        resp.1["error"].as_str().unwrap_or_else(|| panic!("no JSON error in {}", resp.1)).to_string()
    }
}
