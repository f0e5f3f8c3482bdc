//! The CNCF Wasm OCI artifact layout (CNCF TAG Runtime, "Wasm OCI Artifact layout",
//! `tag-runtime/wasm-oci-artifact`): an OCI image manifest whose config has media type
//! [`WASM_CONFIG_MEDIA_TYPE`] and whose one layer, of media type [`WASM_LAYER_MEDIA_TYPE`],
//! is the component's bytes. wkg, wash and Spin push and pull this layout.
//!
//! Why not the `oci-wasm` crate, which implements the same layout: its releases pin
//! wit-component and wit-parser 0.253, a third copy of the wasm-tools crates beside
//! Wasmtime's 0.254 and wac's 0.258 (README "Versions"); the layout is two media types and
//! a small JSON config, written here.

use serde::{Deserialize, Serialize};

/// The media type of an OCI image manifest (image-spec `manifest.md`).
pub const OCI_MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The media type of an OCI image index (image-spec `image-index.md`).
pub const OCI_INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// Docker's image manifest, schema 2, which some registries answer for the same content.
pub const DOCKER_MANIFEST_MEDIA_TYPE: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker's manifest list.
pub const DOCKER_LIST_MEDIA_TYPE: &str =
    "application/vnd.docker.distribution.manifest.list.v2+json";
/// The config of a Wasm artifact.
pub const WASM_CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The one layer of a Wasm artifact: the component's bytes.
pub const WASM_LAYER_MEDIA_TYPE: &str = "application/wasm";

/// What a manifest pull accepts: manifests and indexes (an index is refused after it is
/// read, with what it is).
pub const ACCEPTED_MANIFESTS: &[&str] = &[
    OCI_MANIFEST_MEDIA_TYPE,
    DOCKER_MANIFEST_MEDIA_TYPE,
    OCI_INDEX_MEDIA_TYPE,
    DOCKER_LIST_MEDIA_TYPE,
];

/// A content descriptor (image-spec `descriptor.md`): media type, digest, size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Its media type.
    pub media_type: String,
    /// `sha256:…`.
    pub digest: String,
    /// Its size in bytes.
    pub size: u64,
}

/// An image manifest, as much of it as this layout needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// 2.
    pub schema_version: u32,
    /// [`OCI_MANIFEST_MEDIA_TYPE`] (optional in the spec, written by this crate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
}

/// The config of a Wasm artifact (`application/vnd.wasm.config.v0+json`). `created` is
/// left out, as the layout allows, so that the same component gives the same manifest
/// digest every time it is pushed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WasmConfig {
    /// Always `wasm`.
    pub architecture: String,
    /// `wasip2` for a WASI 0.2 component.
    pub os: String,
    /// The digests of the layers, in order.
    pub layer_digests: Vec<String>,
    /// The component's imports and exports by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<ComponentConfig>,
}

/// `component` in a [`WasmConfig`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ComponentConfig {
    /// Export names.
    pub exports: Vec<String>,
    /// Import names.
    pub imports: Vec<String>,
}

/// The one Wasm layer of a manifest that follows the layout, or what the manifest is
/// instead (for [`Problem::NotAWasmArtifact`](compose_resolver::Problem::NotAWasmArtifact)).
///
/// # Errors
/// A sentence saying what the manifest is: an index, a container image, another kind of
/// artifact, a Wasm artifact with no layer or several, or not a manifest at all.
pub fn wasm_layer(manifest_bytes: &[u8]) -> Result<Descriptor, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Peek {
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
    }
    let peek: Peek = serde_json::from_slice(manifest_bytes)
        .map_err(|e| format!("its manifest is not JSON of an OCI manifest ({e})"))?;
    let is_index = peek.manifests.is_some()
        || matches!(
            peek.media_type.as_deref(),
            Some(OCI_INDEX_MEDIA_TYPE | DOCKER_LIST_MEDIA_TYPE)
        );
    if is_index {
        return Err(
            "it is an image index (a multi-platform image or a list of manifests)".to_owned(),
        );
    }
    let manifest: Manifest = serde_json::from_slice(manifest_bytes)
        .map_err(|e| format!("its manifest is not an OCI image manifest ({e})"))?;
    let config = &manifest.config.media_type;
    if config != WASM_CONFIG_MEDIA_TYPE {
        let what = if config.contains("image.config") || config.contains("container.image") {
            "a container image"
        } else {
            "another kind of artifact"
        };
        return Err(format!(
            "it is {what} (config `{config}`, not `{WASM_CONFIG_MEDIA_TYPE}`)"
        ));
    }
    let mut wasm = manifest
        .layers
        .iter()
        .filter(|layer| layer.media_type == WASM_LAYER_MEDIA_TYPE);
    match (wasm.next(), wasm.next(), manifest.layers.len()) {
        (Some(layer), None, 1) => {
            if compose_resolver::is_sha256_digest(&layer.digest) {
                Ok(layer.clone())
            } else {
                Err(format!(
                    "its layer's digest `{}` is not a sha256 digest",
                    layer.digest
                ))
            }
        }
        (None, _, n) => Err(format!(
            "none of its {n} layer(s) has media type `{WASM_LAYER_MEDIA_TYPE}`"
        )),
        (_, _, n) => Err(format!(
            "it has {n} layers; a Wasm artifact has exactly one, of media type `{WASM_LAYER_MEDIA_TYPE}`"
        )),
    }
}
