//! Checkpoints: one safetensors file with the weights (`param/<name>`), AdamW's moments
//! (`adam_m/<name>`, `adam_v/<name>`), and in its metadata a typed header: the model name, its
//! config, the training config and the step. The data order needs no state of its own (batches
//! are drawn from (seed, step)), so these are all a resumed run needs to continue bit for bit,
//! and all a tool needs to rebuild the model ([`load`]) without an optimiser or a dataset.
//! A SHA-256 of the header and every tensor (the header's `sha256`) is checked on every read, so
//! a damaged file is named before a model is built from it (checkpoints written before the
//! checksum are read without it). It lives in the header because the safetensors metadata is a
//! hash map written in no fixed order: a second key would make the file's bytes differ from run
//! to run.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde::{Deserialize, Serialize};

use super::AdamW;
use super::config::TrainConfig;
use crate::error::{AgentError, Result};
use crate::models::{self, ModelConfig, ModelVars};

/// Version of the checkpoint layout.
pub const SCHEMA: u32 = 1;

/// What a checkpoint says about itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointHeader {
    /// Layout version.
    pub schema: u32,
    /// Model registry name.
    pub model: String,
    /// The model's architecture.
    pub config: ModelConfig,
    /// The training config.
    pub train: TrainConfig,
    /// Optimiser steps taken.
    pub step: u64,
    /// `sha256:<hex>` of this header (with no `sha256`) and of every tensor, set when the file is
    /// written ([`save`] ignores what it is given) and checked on every read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

fn bytes(t: &Tensor) -> Result<Vec<u8>> {
    let v: Vec<f32> = t.flatten_all()?.to_vec1()?;
    Ok(v.iter().flat_map(|x| x.to_le_bytes()).collect())
}

/// Writes the checkpoint atomically (temporary file, then rename).
pub fn save(path: &Path, header: &CheckpointHeader, opt: &AdamW) -> Result<()> {
    let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (i, (name, var)) in opt.vars.iter().enumerate() {
        let shape = var.shape().dims().to_vec();
        owned.push((
            format!("param/{name}"),
            shape.clone(),
            bytes(var.as_tensor())?,
        ));
        owned.push((format!("adam_m/{name}"), shape.clone(), bytes(&opt.m[i])?));
        owned.push((format!("adam_v/{name}"), shape, bytes(&opt.v[i])?));
    }
    let views = owned
        .iter()
        .map(|(n, s, b)| {
            TensorView::new(Dtype::F32, s.clone(), b)
                .map(|v| (n.as_str(), v))
                .map_err(|e| bad(path, format!("tensor {n}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let unsigned = CheckpointHeader {
        sha256: None,
        ..header.clone()
    };
    let unsigned_json = serde_json::to_string(&unsigned).expect("header serialises");
    let signed = CheckpointHeader {
        sha256: Some(digest(
            &unsigned_json,
            owned
                .iter()
                .map(|(n, s, b)| (n.as_str(), s.as_slice(), b.as_slice())),
        )),
        ..unsigned
    };
    let info = HashMap::from([(
        "moravec".to_owned(),
        serde_json::to_string(&signed).expect("header serialises"),
    )]);
    let data = safetensors::serialize(views, Some(info)).map_err(|e| bad(path, e.to_string()))?;
    let tmp = path.with_extension("safetensors.tmp");
    std::fs::write(&tmp, data).map_err(|e| io("cannot write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io("cannot write", path, e))
}

/// SHA-256 over the header's JSON, then each tensor by name (name, shape, bytes), hex.
fn digest<'a>(
    header: &str,
    tensors: impl Iterator<Item = (&'a str, &'a [usize], &'a [u8])>,
) -> String {
    use sha2::{Digest, Sha256};
    let mut sorted: Vec<_> = tensors.collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut h = Sha256::new();
    h.update((header.len() as u64).to_le_bytes());
    h.update(header.as_bytes());
    for (name, shape, bytes) in sorted {
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update((shape.len() as u64).to_le_bytes());
        for d in shape {
            h.update((*d as u64).to_le_bytes());
        }
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The file's tensors, parsed, after checking them and `header` (the file's) against the
/// checksum the header carries, if it carries one.
fn checked<'d>(path: &Path, data: &'d [u8], header: &CheckpointHeader) -> Result<SafeTensors<'d>> {
    let st = SafeTensors::deserialize(data).map_err(|e| bad(path, e.to_string()))?;
    if let Some(want) = &header.sha256 {
        let unsigned = CheckpointHeader {
            sha256: None,
            ..header.clone()
        };
        let json = serde_json::to_string(&unsigned).expect("header serialises");
        let views = st.tensors();
        let got = digest(
            &json,
            views.iter().map(|(n, v)| (n.as_str(), v.shape(), v.data())),
        );
        if &got != want {
            return Err(bad(
                path,
                format!(
                    "damaged: its header and tensors hash to {got}, not the {want} written with \
                     them; delete it (a run trains it again)"
                ),
            ));
        }
    }
    Ok(st)
}

/// Reads a checkpoint's header only.
pub fn read_header(path: &Path) -> Result<CheckpointHeader> {
    let data = std::fs::read(path).map_err(|e| io("cannot read", path, e))?;
    header_of(path, &data)
}

/// The model saved in the checkpoint at `path`, on `device`, built from the header's configs
/// and filled with its weights (the optimiser's moments are not read).
pub fn load(path: &Path, device: &Device) -> Result<ModelVars> {
    let data = std::fs::read(path).map_err(|e| io("cannot read", path, e))?;
    let header = header_of(path, &data)?;
    let st = checked(path, &data, &header)?;
    let mut weights = HashMap::new();
    for (name, view) in st.tensors() {
        if let Some(var) = name.strip_prefix("param/") {
            weights.insert(var.to_owned(), tensor_of(path, &name, &view, device)?);
        }
    }
    models::load(&header.model, &header.config, &weights, device, path)
}

/// A stored F32 tensor as a tensor on `device`.
fn tensor_of(path: &Path, name: &str, view: &TensorView, device: &Device) -> Result<Tensor> {
    if view.dtype() != Dtype::F32 {
        return Err(bad(
            path,
            format!("tensor {name} is {:?}, expected F32", view.dtype()),
        ));
    }
    let v: Vec<f32> = view
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok(Tensor::from_vec(v, view.shape(), device)?)
}

fn header_of(path: &Path, data: &[u8]) -> Result<CheckpointHeader> {
    let (_, header) = SafeTensors::read_metadata(data)
        .map_err(|e| bad(path, format!("not a safetensors file: {e}")))?;
    let json = header
        .metadata()
        .as_ref()
        .and_then(|m| m.get("moravec"))
        .ok_or_else(|| bad(path, "no Moravec metadata: not a checkpoint of ours".into()))?;
    let header: CheckpointHeader =
        serde_json::from_str(json).map_err(|e| bad(path, format!("bad metadata: {e}")))?;
    if header.schema != SCHEMA {
        return Err(bad(
            path,
            format!("schema {} but this build reads {SCHEMA}", header.schema),
        ));
    }
    Ok(header)
}

/// Loads a checkpoint into `opt` (weights and moments) after checking that it belongs to the
/// model `model` with config `config`; returns its metadata.
pub fn restore(
    path: &Path,
    model: &str,
    config: &ModelConfig,
    opt: &mut AdamW,
) -> Result<CheckpointHeader> {
    let data = std::fs::read(path).map_err(|e| io("cannot read", path, e))?;
    let header = header_of(path, &data)?;
    if header.model != model {
        return Err(bad(
            path,
            format!("holds model `{}`, not `{model}`", header.model),
        ));
    }
    if &header.config != config {
        let json = |c: &ModelConfig| serde_json::to_string(c).expect("config serialises");
        return Err(bad(
            path,
            format!(
                "was trained with config {}, not {}",
                json(&header.config),
                json(config)
            ),
        ));
    }
    let st = checked(path, &data, &header)?;
    let load = |name: &str, like: &Tensor| -> Result<Tensor> {
        let view = st
            .tensor(name)
            .map_err(|e| bad(path, format!("tensor {name}: {e}")))?;
        if view.shape() != like.dims() {
            return Err(bad(
                path,
                format!(
                    "tensor {name} is {:?}, expected {:?}",
                    view.shape(),
                    like.dims()
                ),
            ));
        }
        tensor_of(path, name, &view, like.device())
    };
    for i in 0..opt.vars.len() {
        let (name, var) = &opt.vars[i];
        var.set(&load(&format!("param/{name}"), var.as_tensor())?)?;
        opt.m[i] = load(&format!("adam_m/{name}"), var.as_tensor())?;
        opt.v[i] = load(&format!("adam_v/{name}"), var.as_tensor())?;
    }
    opt.step = header.step;
    Ok(header)
}

fn bad(path: &Path, reason: String) -> AgentError {
    AgentError::BadCheckpoint {
        path: path.to_owned(),
        reason,
    }
}

fn io(action: &'static str, path: &Path, source: std::io::Error) -> AgentError {
    AgentError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}
