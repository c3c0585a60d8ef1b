//! Outbound HTTP (docs/ABI.md "Outbound HTTP"): plugins that the host grants
//! the `http` permission reach the URLs their manifest asks for and the
//! host allows. No libcurl or sockets in the plugin: the host makes the
//! request.
//!
//! ```ignore
//! let resp = wasmplug_pdk::http::get("https://api.example.com/v1/today")?;
//! let doc = resp.json()?;
//! ```

use crate::{json, sys, Error};

/// Why a request failed: the host's codes (docs/ABI.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpError {
    NotGranted = 1,
    BadRequest,
    ForbiddenHeader,
    UrlNotAllowed,
    RedirectNotAllowed,
    TooManyRedirects,
    AddressNotAllowed,
    RequestTooLarge,
    ResponseTooLarge,
    TooManyRequests,
    Timeout,
    Cancelled,
    Dns,
    Connect,
    Tls,
    Network,
    NoMemory,
}

impl HttpError {
    fn from_code(code: i32) -> HttpError {
        use HttpError::*;
        const ALL: [HttpError; 17] = [
            NotGranted, BadRequest, ForbiddenHeader, UrlNotAllowed, RedirectNotAllowed,
            TooManyRedirects, AddressNotAllowed, RequestTooLarge, ResponseTooLarge,
            TooManyRequests, Timeout, Cancelled, Dns, Connect, Tls, Network, NoMemory,
        ];
        ALL.get((code - 1) as usize).copied().unwrap_or(Network)
    }
}

/// A failed request: the code and the host's message.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestError {
    pub kind: HttpError,
    pub message: String,
}

impl From<RequestError> for Error {
    fn from(e: RequestError) -> Error {
        Error::with_code(e.kind as i32, format!("HTTP request failed: {}", e.message))
    }
}

/// A response (any status: 404 and 500 are responses too).
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    /// (name, value) in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
    /// A header's value (case-insensitive name, first match).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// The body as UTF-8 text (invalid sequences replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The body parsed as JSON.
    pub fn json(&self) -> Result<json::Value, Error> {
        Ok(json::Value::parse(&self.text())?)
    }
}

fn read_result(len: usize) -> Vec<u8> {
    let mut all = vec![0u8; len];
    if len > 0 {
        unsafe { sys::result_read(all.as_mut_ptr(), len as i32, 0) };
    }
    all
}

/// Send a request with (name, value) headers and a body.
pub fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Response, RequestError> {
    let mut req = Vec::with_capacity(method.len() + url.len() + body.len() + 64);
    req.extend_from_slice(method.as_bytes());
    req.push(b' ');
    req.extend_from_slice(url.as_bytes());
    req.push(b'\n');
    for (k, v) in headers {
        req.extend_from_slice(k.as_bytes());
        req.extend_from_slice(b": ");
        req.extend_from_slice(v.as_bytes());
        req.push(b'\n');
    }
    req.push(b'\n');
    req.extend_from_slice(body);
    let mut small = [0u8; 4096];
    let n = unsafe {
        sys::http_request(req.as_ptr(), req.len() as i32, small.as_mut_ptr(), small.len() as i32)
    };
    if n < 0 {
        // The message is the result: measure it, then read it.
        let mut len = 0usize;
        loop {
            let k = unsafe { sys::result_read(small.as_mut_ptr(), small.len() as i32, len as i32) };
            if k <= 0 {
                break;
            }
            len += k as usize;
        }
        let message = String::from_utf8_lossy(&read_result(len)).into_owned();
        return Err(RequestError { kind: HttpError::from_code(-n), message });
    }
    let len = n as usize;
    let all = if len <= small.len() { small[..len].to_vec() } else { read_result(len) };
    Ok(parse_response(&all))
}

/// "STATUS\n" header lines "\n" body.
fn parse_response(all: &[u8]) -> Response {
    let mut lines = all.split(|&b| b == b'\n');
    let status = lines
        .next()
        .and_then(|l| std::str::from_utf8(l).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    let mut headers = Vec::new();
    let mut consumed = all.iter().position(|&b| b == b'\n').map_or(all.len(), |p| p + 1);
    for line in lines {
        consumed += line.len() + 1;
        if line.is_empty() {
            break;
        }
        let text = String::from_utf8_lossy(line);
        if let Some((k, v)) = text.split_once(':') {
            headers.push((k.to_string(), v.trim_start().to_string()));
        }
    }
    let body = all.get(consumed.min(all.len())..).unwrap_or(&[]).to_vec();
    Response { status, headers, body }
}

/// GET url.
pub fn get(url: &str) -> Result<Response, RequestError> {
    request("GET", url, &[], &[])
}

/// POST body to url with extra headers.
pub fn post(url: &str, body: &[u8], headers: &[(&str, &str)]) -> Result<Response, RequestError> {
    request("POST", url, headers, body)
}

/// POST a JSON value (Content-Type: application/json).
pub fn post_json(url: &str, value: &json::Value) -> Result<Response, RequestError> {
    post(url, value.to_json().as_bytes(), &[("Content-Type", "application/json")])
}
