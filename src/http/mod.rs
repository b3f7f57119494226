//! The core's own request and response types: the shell translates to and from these.

pub mod client_cert;
pub mod form;
pub mod respond;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::Error;
use crate::support::json;
pub use client_cert::ClientCertificate;
pub use form::Form;

/// HTTP methods the router distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
    /// OPTIONS
    Options,
    /// Anything else.
    Other,
}

impl Method {
    /// Parses a method name as it appears on the wire.
    pub fn parse(name: &str) -> Method {
        match name {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            _ => Method::Other,
        }
    }

    /// The method's wire name, for `Allow` headers.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Other => "OTHER",
        }
    }
}

/// The request headers the core reads. The shell copies only these across the boundary
/// (three lookups, where copying every header cost more than the rest of a trivial request's
/// translation); reading another is a bug that [`Request::header`] catches in every test.
pub const REQUEST_HEADERS: [&str; 7] = [
    "authorization",
    "cf-access-jwt-assertion",
    "origin",
    "sec-fetch-site",
    // Last, the [`BODY_HEADERS`]:
    "content-type",
    "content-length",
    "dpop",
];

/// How many of [`REQUEST_HEADERS`], last, only a request with a body (`POST`, `PUT`, `PATCH`)
/// has use for: its body's type and length, and a DPoP proof (read at the token endpoint
/// only). For other methods the shell does not read them (three runtime calls a request).
pub const BODY_HEADERS: usize = 3;

/// The header by which a response names the static asset the shell sends as its body
/// ([`Response::json_asset`]); the shell removes it.
pub const ASSET_HEADER: &str = "x-edgeauth-asset";

/// An incoming request, already read in full.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// `scheme://host[:port]` the request was addressed to.
    pub origin: String,
    /// The path, percent-encoded as received.
    pub path: String,
    /// The query string without `?`, empty when absent.
    pub query: String,
    /// Header names in lower case; from the runtime, only [`REQUEST_HEADERS`].
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
    /// The TLS client certificate's fields, checked; `None` where the edge gave none (no
    /// mutual TLS on the hostname, or not a `POST`: only client authentication reads it).
    pub client_cert: Option<ClientCertificate>,
}

impl Request {
    /// A request with no headers and no body, from a serialized absolute URL (as the runtime
    /// gives it, fragment excluded); used by the shell and tests.
    pub fn new(method: Method, url: &str) -> Request {
        let (origin, rest) = match url.find("://") {
            Some(i) => match url[i + 3..].find('/') {
                Some(j) => (&url[..i + 3 + j], &url[i + 3 + j..]),
                None => (url, "/"),
            },
            None => ("http://localhost", url),
        };
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        Request {
            method,
            origin: origin.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
            client_cert: None,
        }
    }

    /// A request from the one line the shell reads off the runtime's request: method, URL and
    /// the values of [`REQUEST_HEADERS`] in order, separated by `\n`, with `\0` for a header
    /// that is absent (neither can occur in a method, a serialized URL or a header value);
    /// then, when the edge gave a client certificate's fields, `certPresented`,
    /// `certVerified`, `certFingerprintSHA256` and, last (the rest of the line),
    /// `certSubjectDNRFC2253`.
    pub fn from_head(head: &str) -> Request {
        let mut parts = head.splitn(2 + REQUEST_HEADERS.len() + 4, '\n');
        let method = Method::parse(parts.next().unwrap_or_default());
        let mut request = Request::new(method, parts.next().unwrap_or_default());
        request.headers = REQUEST_HEADERS
            .iter()
            .zip(parts.by_ref())
            .filter(|(_, value)| *value != "\0")
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        if let (Some(p), Some(v), Some(f), Some(s)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        {
            request.client_cert = Some(ClientCertificate::from_edge(p, v, f, s));
        }
        request
    }

    /// Sets the client certificate's fields as the edge gives them (`request.cf.tlsClientAuth`).
    pub fn with_client_cert(
        mut self,
        presented: &str,
        verified: &str,
        fingerprint: &str,
        subject: &str,
    ) -> Request {
        self.client_cert = Some(ClientCertificate::from_edge(
            presented,
            verified,
            fingerprint,
            subject,
        ));
        self
    }

    /// Adds a header (name is lower-cased).
    pub fn with_header(mut self, name: &str, value: &str) -> Request {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    /// Sets the body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }

    /// The first value of a header, by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        debug_assert!(
            REQUEST_HEADERS.contains(&name),
            "the shell does not copy the header {name}: add it to REQUEST_HEADERS"
        );
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body, if it has media type `media` and at most `max` bytes: the one check every
    /// endpoint with a body makes first.
    pub fn body_of(&self, media: &str, max: usize) -> Result<&[u8], Error> {
        if self.media_type().as_deref() != Some(media) {
            return Err(Error::InvalidRequest(
                format!("the content type must be {media}").into(),
            ));
        }
        if self.body.len() > max {
            return Err(Error::InvalidRequest(
                format!("the request body is larger than {max} bytes").into(),
            ));
        }
        Ok(&self.body)
    }

    /// The body as a form (RFC 6749 appendix B); `repeatable` names may appear more than once.
    pub fn form(&self, max: usize, repeatable: &[&str]) -> Result<Form, Error> {
        Form::parse(
            self.body_of("application/x-www-form-urlencoded", max)?,
            repeatable,
        )
    }

    /// The body as JSON of type `T`.
    pub fn json<T: DeserializeOwned>(&self, max: usize) -> Result<T, Error> {
        json::object(self.body_of("application/json", max)?).map_err(invalid_json)
    }

    /// The query string as a form.
    pub fn query_form(&self) -> Result<Form, Error> {
        Form::parse(self.query.as_bytes(), &[])
    }

    /// The credentials of an `Authorization` header with `scheme` (case-insensitive), if any.
    pub fn authorization(&self, scheme: &str) -> Option<&str> {
        let (given, rest) = self.header("authorization")?.trim().split_once(' ')?;
        given.eq_ignore_ascii_case(scheme).then_some(rest.trim())
    }

    /// The media type of the body, lower-cased, without parameters.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
    }
}

/// An outgoing response.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers to set.
    pub headers: Vec<(&'static str, String)>,
    /// Body bytes; empty means no body.
    pub body: Vec<u8>,
    /// Detail for the operator's log, never sent to the client.
    pub log: Option<String>,
}

impl Response {
    /// A JSON response.
    pub fn json(status: u16, value: &impl Serialize) -> Response {
        // Serializing our own plain structs cannot fail; fall back to an empty object regardless.
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        Response::json_bytes(status, body)
    }

    /// A JSON response whose body is fixed text.
    pub fn json_text(status: u16, body: &'static str) -> Response {
        Response::json_bytes(status, body.into())
    }

    /// A JSON response with the body already serialized.
    pub fn json_bytes(status: u16, body: Vec<u8>) -> Response {
        Response {
            status,
            headers: vec![("content-type", "application/json".to_string())],
            body,
            log: None,
        }
    }

    /// A response without a body.
    pub fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            log: None,
        }
    }

    /// A JSON document kept as the static asset at `path`: the shell sends that file as the
    /// body, with this response's status and headers, so the file stays out of the wasm and is
    /// read only after the core's checks.
    pub fn json_asset(path: &'static str) -> Response {
        Response::empty(200)
            .with_header("content-type", "application/json")
            .with_header(ASSET_HEADER, path)
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The error for a JSON body that did not parse, out of line: [`Request::json`] is
/// instantiated for every body type.
fn invalid_json(e: String) -> Error {
    Error::InvalidRequest(format!("invalid JSON body: {e}").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_head_reads_method_url_and_the_present_headers() {
        let r = Request::from_head(
            "POST\nhttps://issuer.example/oauth/token?x=1\nBasic YTpi\n\0\n\0\n\0\n\0\n29",
        );
        assert_eq!(r.method, Method::Post);
        assert_eq!(r.origin, "https://issuer.example");
        assert_eq!((r.path.as_str(), r.query.as_str()), ("/oauth/token", "x=1"));
        assert_eq!(r.header("authorization"), Some("Basic YTpi"));
        assert_eq!(r.header("content-type"), None);
        assert_eq!(r.header("content-length"), Some("29"));
        assert_eq!(r.headers.len(), 2);
    }

    #[test]
    fn from_head_keeps_empty_values_and_survives_a_short_line() {
        let r = Request::from_head("GET\nhttp://h/healthz\n\n\0\n\0\n\0\n\0");
        assert_eq!(r.method, Method::Get);
        assert_eq!(r.path, "/healthz");
        assert_eq!(r.header("authorization"), Some(""));
        assert_eq!(r.header("content-type"), None);
        assert_eq!(r.header("content-length"), None);
        let r = Request::from_head("");
        assert_eq!(r.method, Method::Other);
        assert!(r.headers.is_empty());
        assert_eq!(r.client_cert, None);
    }

    #[test]
    fn the_body_headers_are_last_and_only_those_a_body_or_a_proof_needs() {
        let last = &REQUEST_HEADERS[REQUEST_HEADERS.len() - BODY_HEADERS..];
        assert_eq!(last, ["content-type", "content-length", "dpop"]);
    }

    #[test]
    fn from_head_reads_the_client_certificate_after_the_headers() {
        let fp = "AB".repeat(32);
        let absent = vec!["\0"; REQUEST_HEADERS.len()].join("\n");
        let line = format!("POST\nhttps://i.example/oauth/token\n{absent}");
        let r = Request::from_head(&format!("{line}\n1\nSUCCESS\n{fp}\nCN=a\nb,O=c"));
        let cert = r.client_cert.unwrap();
        assert!(cert.presented && cert.verified);
        assert_eq!(cert.fingerprint, Some([0xAB; 32]));
        assert_eq!(cert.subject_dn.as_deref(), Some("CN=a\nb,O=c"));
        let r = Request::from_head(&line);
        assert_eq!(r.client_cert, None);
    }
}
