//! `GET /openapi.json`: the API description, kept next to the router and checked against it
//! by a test.

use crate::http::Response;

/// The OpenAPI 3.1 document.
pub const DOCUMENT: &str = include_str!("../../openapi.json");

/// 200 with the document.
pub fn get() -> Response {
    Response::with_body(200, "application/json", DOCUMENT.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::Route;

    #[test]
    fn documents_every_route_and_method() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).expect("valid JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        for route in Route::ALL {
            let path = &doc["paths"][route.template()];
            assert!(path.is_object(), "{} is not documented", route.template());
            for method in route
                .methods()
                .iter()
                .filter(|m| **m != shared::http::Method::Head)
            {
                let key = method.as_str().to_ascii_lowercase();
                assert!(
                    path[&key].is_object(),
                    "{} {} is not documented",
                    method,
                    route.template()
                );
            }
        }
        // An old path still served is documented, as deprecated, with the same methods.
        for (template, route) in crate::router::ALIASES {
            for method in route
                .methods()
                .iter()
                .filter(|m| **m != shared::http::Method::Head)
            {
                let key = method.as_str().to_ascii_lowercase();
                assert_eq!(
                    doc["paths"][template][&key]["deprecated"], true,
                    "alias {method} {template} is not documented as deprecated"
                );
            }
        }
        let documented = doc["paths"].as_object().map_or(0, |p| p.len());
        assert_eq!(
            documented,
            Route::ALL.len() + crate::router::ALIASES.len(),
            "documented paths that the router does not serve"
        );
    }
}
