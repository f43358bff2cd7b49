//! Just enough W3C WebDriver (https://www.w3.org/TR/webdriver2/) over reqwest to drive the
//! desktop window through tauri-driver → WebKitWebDriver: sessions, CSS lookups, clicks, keys,
//! text, scripts and screenshots, with polling waits that say what they waited for.

use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// W3C WebDriver key codes.
pub const ARROW_DOWN: &str = "\u{E015}";
pub const ARROW_UP: &str = "\u{E013}";
pub const ARROW_RIGHT: &str = "\u{E014}";

/// The key W3C uses for element references in JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Driver {
    http: reqwest::Client,
    base: String,
    session: String,
}

#[derive(Clone, Debug)]
pub struct Element(String);

impl Driver {
    /// Starts a session for the Tauri app at `application`.
    pub async fn start(port: u16, application: &Path) -> Driver {
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let caps = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "wry",
                    "tauri:options": { "application": application.display().to_string() }
                }
            }
        });
        // A cold machine can still refuse the first session while WebKitWebDriver finishes
        // starting (issue #13.9): retry within a deadline, then report the last error.
        let deadline = Instant::now() + Duration::from_secs(90);
        let value = loop {
            match send(
                &http,
                reqwest::Method::POST,
                &format!("{base}/session"),
                Some(caps.clone()),
            )
            .await
            {
                Ok(v) => break v,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("tauri-driver did not start a session yet ({e}); retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => panic!(
                    "tauri-driver starts a session for {} within 90 s: {e}",
                    application.display()
                ),
            }
        };
        let session = value["sessionId"].as_str().expect("a session id").to_string();
        Driver { http, base, session }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        send(&self.http, method, &url, body).await
    }

    pub async fn find(&self, css: &str) -> Option<Element> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await
            .ok()?;
        v[ELEMENT].as_str().map(|id| Element(id.to_string()))
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await
            .unwrap_or(Value::Null);
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(|id| Element(id.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits up to `secs` for `css` to match.
    pub async fn wait(&self, css: &str, secs: u64) -> Element {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(e) = self.find(css).await {
                return e;
            }
            if Instant::now() > deadline {
                panic!(
                    "waited {secs} s for `{css}` to appear; the window shows:\n{}",
                    self.page_text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The rendered text (`innerText`) of the first match of `css`. Read by script: WebDriver's
    /// own element text comes back empty for some visible elements in WebKitWebDriver.
    pub async fn text_of(&self, css: &str) -> Option<String> {
        let script = format!(
            "const e = document.querySelector({}); return e ? e.innerText.replace(/\\s+/g, ' ').trim() : null;",
            serde_json::to_string(css).expect("a JSON string")
        );
        self.execute(&script).await.as_str().map(str::to_string)
    }

    /// Waits up to `secs` for the text of `css` to contain `needle`; returns the text.
    pub async fn wait_text(&self, css: &str, needle: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut last = String::new();
        loop {
            if let Some(text) = self.text_of(css).await {
                last = text;
                if last.contains(needle) {
                    return last;
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "waited {secs} s for `{css}` to say {needle:?}; it says {last:?}; the window shows:\n{}",
                    self.page_text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits up to `secs` for `css` to match nothing.
    pub async fn wait_gone(&self, css: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.find(css).await.is_some() {
            assert!(Instant::now() < deadline, "waited {secs} s for `{css}` to go away");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click(&self, e: &Element) {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/click", e.0),
            Some(json!({})),
        )
        .await
        .unwrap_or_else(|err| panic!("click: {err}"));
    }

    pub async fn click_css(&self, css: &str) {
        let e = self.wait(css, 10).await;
        self.click(&e).await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.wait(css, 10).await;
        let _ = self
            .call(
                reqwest::Method::POST,
                &format!("/element/{}/clear", e.0),
                Some(json!({})),
            )
            .await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/value", e.0),
            Some(json!({"text": text})),
        )
        .await
        .unwrap_or_else(|err| panic!("typing into `{css}`: {err}"));
    }

    /// Sends keys to `e` (focusing it) without clearing it first: `" "` is Space,
    /// [`ARROW_DOWN`] and friends are the W3C key codes.
    pub async fn send_keys(&self, e: &Element, keys: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/value", e.0),
            Some(json!({"text": keys})),
        )
        .await
        .unwrap_or_else(|err| panic!("sending keys: {err}"));
    }

    /// The `data-testid` of the focused element (`""` when it has none).
    pub async fn focused_testid(&self) -> String {
        self.execute("const e = document.activeElement; return (e && e.dataset && e.dataset.testid) || '';")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The window's inner size after asking for `width`×`height` (`None` if the driver cannot
    /// resize it).
    pub async fn resize(&self, width: u32, height: u32) -> Option<(u64, u64)> {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await
        .ok()?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let v = self.execute("return [window.innerWidth, window.innerHeight];").await;
        Some((v[0].as_u64()?, v[1].as_u64()?))
    }

    /// The bounding box `[x, y, width, height]` of the first match of `css`.
    pub async fn rect_of(&self, css: &str) -> Option<[f64; 4]> {
        let script = format!(
            "const e = document.querySelector({}); if (!e) return null; const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height];",
            serde_json::to_string(css).expect("a JSON string")
        );
        let v = self.execute(&script).await;
        let a = v.as_array()?;
        Some([a[0].as_f64()?, a[1].as_f64()?, a[2].as_f64()?, a[3].as_f64()?])
    }

    pub async fn attribute(&self, e: &Element, name: &str) -> Option<String> {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{}/attribute/{name}", e.0),
            None,
        )
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
    }

    pub async fn enabled(&self, e: &Element) -> bool {
        self.call(reqwest::Method::GET, &format!("/element/{}/enabled", e.0), None)
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    }

    /// The page's title (WebDriver's "Get Title").
    pub async fn title(&self) -> String {
        self.call(reqwest::Method::GET, "/title", None)
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// What the window says (for failure messages).
    pub async fn page_text(&self) -> String {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": "return (window.__e2eErrors || []).join('\\n') + '\\n---\\n' + document.body.innerText", "args": []})),
        )
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
    }

    pub async fn execute(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
        .unwrap_or_else(|err| panic!("script failed: {err}"))
    }

    /// Saves a PNG of the window.
    ///
    /// WebKitWebDriver takes the picture at the next presentation update, and a page where
    /// nothing changes never has one (no blinking caret, no running timer): the request then
    /// hangs. So a 1×1 px corner element flickers imperceptibly for a second first.
    pub async fn screenshot(&self, path: &Path) {
        self.execute(
            "let n = 0; const tick = () => {                let d = document.getElementById('e2e-repaint');                if (!d) { d = document.createElement('div'); d.id = 'e2e-repaint'; document.body.appendChild(d); }                d.style.cssText = 'position:fixed;right:0;bottom:0;width:1px;height:1px;pointer-events:none;background:rgba(0,0,0,' + (n % 2 ? '0.01' : '0.02') + ')';                if (++n < 90) requestAnimationFrame(tick); else d.remove(); };              tick(); return n;",
        )
        .await;
        let v = self
            .call(reqwest::Method::GET, "/screenshot", None)
            .await
            .unwrap_or_else(|err| panic!("screenshot: {err}"));
        let png = base64_decode(v.as_str().expect("base64 PNG"));
        std::fs::write(path, png).expect("the screenshot is written");
        println!("screenshot: {}", path.display());
    }

    pub async fn quit(self) {
        let _ = send(
            &self.http,
            reqwest::Method::DELETE,
            &format!("{}/session/{}", self.base, self.session),
            None,
        )
        .await;
    }
}

async fn send(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value, String> {
    let mut req = http.request(method, url).timeout(Duration::from_secs(60));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.map_err(|e| e.to_string())?;
    let status = res.status();
    let v: Value = res.json().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(v["value"].clone())
    } else {
        Err(format!("{status}: {}", v["value"]))
    }
}

/// Standard base64 (RFC 4648 §4), padding and whitespace tolerated.
fn base64_decode(s: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let digits: Vec<u32> = s.bytes().filter_map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, d)| acc | d << (18 - 6 * i));
        out.push((n >> 16) as u8);
        if chunk.len() > 2 {
            out.push((n >> 8) as u8);
        }
        if chunk.len() > 3 {
            out.push(n as u8);
        }
    }
    out
}

#[test]
fn base64_round_trips() {
    assert_eq!(base64_decode("aGVsbG8="), b"hello");
    assert_eq!(base64_decode("aGVsbG8gd29ybGQ"), b"hello world");
}
