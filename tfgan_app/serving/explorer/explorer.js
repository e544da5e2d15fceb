// tfgan latent explorer: generates on the device (LiteRT.js) or through the TF Serving REST API
// (no build step, no external files).
//
// On the device (`tfgan export --web`, default when explorer/models.json lists "device" models) it runs the
// export's batch-1 `.tflite` files with LiteRT.js (explorer/litert/, WebAssembly on the CPU) and never calls
// `/v1`; the model is described by its generator.json sidecar (tfgan_app/serving/web.py).
// Through the server it only calls GET /v1/models/<name>[/versions/N] (status), GET .../metadata (signatures) and
// POST ...:predict, so it works on `tfgan serve` and, via `tfgan explore`, next to a real
// tensorflow_model_server. Each model's kind comes from the signatures in the metadata:
//   latent:          serving_default(latents [+ labels] [+ truncation]) -> images in [-1, 1]
//   text:            from_captions(latents, captions) -> images
//   seed only:       generate_png(seed, num_images [+ labels]) / generate_from_captions_png(seed, captions)
//   image-to-image:  serving_default(images [N, H, W, C]) -> images, or translate_png(png_bytes)
// A seed's latent is `sample_latents(1, dim, seed)` of tfgan_app/latent.py (latents.js), as in
// `tfgan generate --seed` and the server's generate_png(seed): the same seed gives the same image.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const SCRIPT_URL = document.currentScript.src;
  const here = (path) => new URL(path, SCRIPT_URL).href; // next to explorer.js, on any static host
  const NUM_DIRECTIONS = 4;
  const DIRECTION_RANGE = 3;
  const DEBOUNCE_MS = 150;
  const MAX_SEED = 2147483647;
  const DIRECTION_SEED = 0x0d1ec7;

  const state = { name: "", version: "", info: null, directions: [], renderSeq: 0, stripSeq: 0, loadSeq: 0,
                  device: {}, runtime: "server" };
  const RUNTIMES = { device: "on device (LiteRT.js, WebAssembly)", server: "server (TF Serving REST, SavedModel)" };

  // ---------------------------------------------------------------- errors and status
  function showError(message) {
    $("error").textContent = message;
    $("error").hidden = false;
  }
  function clearError() {
    $("error").hidden = true;
    $("error").textContent = "";
  }
  function setStatus(message) {
    $("status").textContent = message;
  }

  // ---------------------------------------------------------------- REST API
  class ApiError extends Error {
    constructor(message, status) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, body) {
    let response;
    try {
      response = await fetch(path, body === undefined ? { cache: "no-store" } : {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(`Cannot reach the model server at ${location.origin} (${e.message}). ` +
                         "Is `tfgan serve` (or `tfgan explore`) still running?", 0);
    }
    const text = await response.text();
    let data;
    try {
      data = JSON.parse(text);
    } catch (e) {
      data = { error: text.slice(0, 300) || `HTTP ${response.status}` };
    }
    if (!response.ok) {
      const message = (data && data.error) || `HTTP ${response.status}`;
      throw new ApiError(response.status === 502 ? `Model server unavailable: ${message}` : message, response.status);
    }
    return data;
  }

  function modelPath(name, version) {
    const path = `/v1/models/${encodeURIComponent(name)}`;
    return version ? `${path}/versions/${encodeURIComponent(version)}` : path;
  }

  function predict(signature, inputs) {
    return api(`${modelPath(state.name, state.version)}:predict`, { signature_name: signature, inputs: inputs });
  }

  // The "outputs" of a columnar response: the bare value for one output, else an object by name.
  function output(data, key) {
    const outputs = data.outputs;
    if (Array.isArray(outputs)) return outputs;
    if (outputs && outputs[key] !== undefined) return outputs[key];
    throw new ApiError(`Expected an output "${key}" in the reply, received ${JSON.stringify(outputs).slice(0, 200)}`);
  }

  // ---------------------------------------------------------------- model kinds from metadata
  function dims(tensor) {
    return (((tensor || {}).tensor_shape || {}).dim || []).map((d) => parseInt(d.size, 10));
  }

  function findNumber(value, key) {
    if (!value || typeof value !== "object") return null;
    if (key in value && Number.isFinite(Number(value[key])) && Number(value[key]) > 0) return Number(value[key]);
    for (const child of Object.values(value)) {
      const found = findNumber(child, key);
      if (found !== null) return found;
    }
    return null;
  }

  // What the page can do with a model, from its GetModelMetadata reply; null if nothing.
  function describe(metadata) {
    const signatures = (((metadata || {}).metadata || {}).signature_def || {}).signature_def || {};
    const inputs = (name) => (signatures[name] ? signatures[name].inputs || {} : null);
    const names = Object.keys(signatures).sort();
    // `tfgan export` states a conditional model's class count as the static shape [num_classes] of its
    // class_ids signature's output, as TF Serving's metadata holds signature_defs only.
    const classIds = signatures.class_ids ? dims((signatures.class_ids.outputs || {}).class_ids) : [];
    const statedClasses = classIds.length === 1 && classIds[0] > 0 ? classIds[0] : null;
    const base = { signatures: names, numClasses: findNumber(metadata, "num_classes") || statedClasses };
    const fallback = inputs("serving_default") || {};
    if (fallback.images && dims(fallback.images).length === 4 && Object.keys(fallback).length === 1) {
      return Object.assign(base, { kind: "image_to_image", floatSignature: "serving_default",
                                   inputShape: dims(fallback.images).slice(1) });
    }
    if (inputs("translate_png")) {
      return Object.assign(base, { kind: "image_to_image", pngSignature: "translate_png", inputShape: null });
    }
    const text = inputs("from_captions");
    if (text && text.latents && text.captions) {
      return Object.assign(base, { kind: "text", latentSignature: "from_captions", latentDim: dims(text.latents)[1],
                                   truncation: text.truncation ? dims(text.truncation).length : null });
    }
    if (fallback.latents && !fallback.tokens) {
      return Object.assign(base, { kind: "latent", latentSignature: "serving_default",
                                   latentDim: dims(fallback.latents)[1], conditional: Boolean(fallback.labels),
                                   truncation: fallback.truncation ? dims(fallback.truncation).length : null });
    }
    const captions = inputs("generate_from_captions_png");
    if (captions && captions.seed && captions.captions) {
      return Object.assign(base, { kind: "text", pngSignature: "generate_from_captions_png",
                                   truncation: captions.truncation ? dims(captions.truncation).length : null });
    }
    const seeded = inputs("generate_png");
    if (seeded && seeded.seed && seeded.num_images) {
      return Object.assign(base, { kind: "latent", pngSignature: "generate_png", conditional: Boolean(seeded.labels),
                                   truncation: seeded.truncation ? dims(seeded.truncation).length : null });
    }
    return Object.assign(base, { kind: null });
  }

  // Models exported before the class_ids signature state their class count only in their label check
  // ("labels must be < num_classes=10"): ask for an impossible class once when the metadata does not say it.
  async function probeNumClasses(info) {
    const inputs = info.latentSignature
      ? { latents: [new Array(info.latentDim).fill(0)], labels: [MAX_SEED] }
      : { seed: 0, num_images: 1, labels: [MAX_SEED] };
    if (info.truncation !== null) inputs.truncation = info.truncation === 0 ? 1 : [1];
    try {
      await predict(info.latentSignature || info.pngSignature, inputs);
    } catch (e) {
      const match = /num_classes=(\d+)/.exec(e.message);
      if (match) return parseInt(match[1], 10);
    }
    return null;
  }

  // ---------------------------------------------------------------- latents
  // `sample_latents(1, dim, seed)[0]` of tfgan_app/latent.py, as a plain array.
  function latentFor(seed, dim) {
    return Array.from(window.tfganLatents.sampleLatents(1, dim, seed));
  }

  // `count` orthonormal directions (Gram-Schmidt on the latents of seeds DIRECTION_SEED + k), fixed for a size.
  function makeDirections(dim, count) {
    const directions = [];
    for (let k = 0; directions.length < Math.min(count, dim) && k < 4 * count; k++) {
      const d = latentFor(DIRECTION_SEED + k, dim);
      for (const e of directions) {
        const dot = d.reduce((s, x, i) => s + x * e[i], 0);
        for (let i = 0; i < dim; i++) d[i] -= dot * e[i];
      }
      const norm = Math.sqrt(d.reduce((s, x) => s + x * x, 0));
      if (norm > 1e-6) directions.push(d.map((x) => x / norm));
    }
    return directions;
  }

  function slerp(z0, z1, t) {
    const dot = z0.reduce((s, x, i) => s + x * z1[i], 0);
    const n0 = Math.sqrt(z0.reduce((s, x) => s + x * x, 0));
    const n1 = Math.sqrt(z1.reduce((s, x) => s + x * x, 0));
    const omega = Math.acos(Math.min(1, Math.max(-1, dot / Math.max(n0 * n1, 1e-12))));
    if (Math.sin(omega) < 1e-6) return z0.map((x, i) => (1 - t) * x + t * z1[i]);
    const a = Math.sin((1 - t) * omega) / Math.sin(omega);
    const b = Math.sin(t * omega) / Math.sin(omega);
    return z0.map((x, i) => a * x + b * z1[i]);
  }

  function seedValue(id) {
    const value = parseInt($(id).value, 10);
    return Number.isFinite(value) ? Math.min(Math.max(value, 0), MAX_SEED) : 0;
  }

  function currentLatent() {
    const z = latentFor(seedValue("seed"), state.info.latentDim);
    state.directions.forEach((d, k) => {
      const alpha = parseFloat($(`direction-${k}`).value);
      for (let i = 0; i < z.length; i++) z[i] += alpha * d[i];
    });
    return z;
  }

  // Inputs beside latents / seed: labels, captions, truncation, one per image.
  function conditioning(count) {
    const info = state.info;
    const inputs = {};
    if (info.conditional) inputs.labels = new Array(count).fill(parseInt($("class-id").value, 10) || 0);
    if (KINDS[info.kind].captions) inputs.captions = new Array(count).fill($("caption").value);
    if (info.truncation !== null) {
      const psi = parseFloat($("truncation").value);
      inputs.truncation = info.truncation === 0 ? psi : new Array(count).fill(psi);
    }
    return inputs;
  }

  // ---------------------------------------------------------------- runtimes
  // Where the images come from, and how long they took: "<name> vN: <what>, <ms> ms, <runtime> <precision>".
  function showTiming(canvas, ms, what) {
    const precision = state.runtime === "device" ? $("precision-select").value : "float32";
    canvas.dataset.runtime = state.runtime;
    canvas.dataset.precision = precision;
    canvas.dataset.ms = String(ms);
    setStatus(`${state.name}${state.loadedVersion ? " v" + state.loadedVersion : ""}: ${what}, ${Math.round(ms)} ms, ` +
              `${RUNTIMES[state.runtime]} ${precision}`);
  }

  // The REST runners of a model described by its metadata (`describe`).
  function serverRunners(info) {
    if (info.latentSignature) {
      info.runLatents = async (latents, inputs) =>
        output(await predict(info.latentSignature, Object.assign({ latents: latents }, inputs)), "images");
    }
    if (info.floatSignature) {
      info.runImages = async (images) => output(await predict(info.floatSignature, { images: images }), "images");
    }
    return info;
  }

  // LiteRT.js on this device: the export's batch-N `.tflite` files (explorer/models/<name>/), float32, float16
  // or int8 (int8 tensors quantized and dequantized with the sidecar's (scale, zero_point), as
  // tfgan_app/artifacts/tflite_runner.py does: round half to even, clip to [-128, 127]).
  const device = {
    litert: null,
    compiled: {},

    async runtime() {
      if (!this.litert) {
        const litert = await import(here("litert/core.js"));
        await litert.loadLiteRt(here("litert/wasm/"));
        this.litert = litert;
      }
      return this.litert;
    },

    // The page's description of a device model from its generator.json (`KINDS[kind].device`).
    async describe(name) {
      const folder = here(state.device[name]);
      const response = await fetch(new URL("generator.json", folder), { cache: "no-store" });
      if (!response.ok) throw new ApiError(`Cannot read ${name}'s generator.json (HTTP ${response.status}).`);
      const sidecar = await response.json();
      const kind = (KINDS[sidecar.kind] || {}).device;
      if (!kind) throw new ApiError(`Model "${name}" is a ${sidecar.kind} model, which the page does not run.`);
      const info = Object.assign({ kind: sidecar.kind, folder: folder, sidecar: sidecar, truncation: null,
                                   numClasses: sidecar.num_classes || null }, kind.info(sidecar));
      info[kind.runner] = (values, inputs) => this.run(info, kind.prepare(values, inputs || {}), inputs || {});
      return info;
    },

    async model(info, precision) {
      const url = new URL(info.sidecar.files[precision].file, info.folder).href;
      if (!this.compiled[url]) {
        const litert = await this.runtime();
        this.compiled[url] = await litert.loadAndCompile(url, { accelerator: "wasm" });
      }
      return this.compiled[url];
    },

    // Images (nested [H][W][C] arrays in [-1, 1]) for `values` (latents or images), `inputs.labels` if any.
    async run(info, values, inputs, precision) {
      precision = precision || $("precision-select").value;
      const litert = await this.runtime();
      const model = await this.model(info, precision);
      const [scaleIn, zeroIn] = Object.values(info.sidecar.files[precision].tensor_quantization)[0];
      const [scaleOut, zeroOut] = info.sidecar.files[precision].tensor_quantization.images;
      const batch = info.sidecar.batch_size;
      const details = model.getInputDetails();
      const main = details.length === 1 ? details[0] : details.find((d) => !d.name.includes("labels"));
      const imageShape = info.sidecar.image_shape;
      const images = [];
      for (let start = 0; start < values.length; start += batch) {
        const chunk = values.slice(start, start + batch);
        while (chunk.length < batch) chunk.push(chunk[0]); // a last, partial batch is padded
        const flat = chunk.flat(Infinity);
        const data = main.dtype === "int8" ? Int8Array.from(flat, (x) => quantize(x, scaleIn, zeroIn))
          : Float32Array.from(flat);
        const tensors = details.map((d) => (d === main ? new litert.Tensor(data, Array.from(d.shape))
          : new litert.Tensor(Int32Array.from(chunk.map((_, i) => (inputs.labels || [])[start + i] || 0)),
                              Array.from(d.shape))));
        let outputs;
        try {
          outputs = await model.run(tensors);
        } finally {
          tensors.forEach((t) => t.delete());
        }
        const out = outputs[0].toTypedArray();
        outputs.forEach((t) => t.delete());
        const floats = scaleOut ? Float32Array.from(out, (q) => Math.fround(Math.fround(q - zeroOut) * scaleOut))
          : Float32Array.from(out);
        const size = imageShape.reduce((a, b) => a * b, 1);
        for (let i = 0; i < batch && start + i < values.length; i++) {
          images.push(nest(floats.subarray(i * size, (i + 1) * size), imageShape));
        }
      }
      return images;
    },
  };

  // Everything kind-specific, in one place: the panel, whether it draws from seeds, captions, and how the
  // device runs it (its description fields from generator.json, the runner it gets, its input preparation;
  // no `device`: server only).
  const KINDS = {
    latent: {
      show: (info) => showLatent(info), seeded: true, captions: false,
      // Truncation ψ scales the latents (as `tfgan generate --truncation` and the generate_truncated signatures).
      device: { runner: "runLatents",
                info: (s) => ({ latentDim: s.latent_dim, conditional: Boolean(s.num_classes), truncation: 0 }),
                prepare: (latents, inputs) => (inputs.truncation === undefined ? latents
                  : latents.map((z) => z.map((x) => Math.fround(Math.fround(x) * Math.fround(inputs.truncation))))) },
    },
    text: { show: (info) => showLatent(info), seeded: true, captions: true, device: null },
    image_to_image: {
      show: (info) => showImageToImage(info), seeded: false, captions: false,
      device: { runner: "runImages", info: (s) => ({ inputShape: s.input_shape }), prepare: (images) => images },
    },
  };

  // numpy's int8 quantization: clip(round_half_even(x / scale) + zero_point, -128, 127), in float32.
  function quantize(x, scale, zeroPoint) {
    const v = Math.fround(Math.fround(x) / Math.fround(scale));
    let r = Math.round(v);
    if (Math.abs(v % 1) === 0.5 && r % 2 !== 0) r -= 1; // Math.round rounds halves up
    return Math.min(127, Math.max(-128, r + zeroPoint));
  }

  // A flat [H * W * C] image as nested [H][W][C] arrays.
  function nest(flat, [height, width, channels]) {
    const image = [];
    for (let y = 0; y < height; y++) {
      const row = [];
      for (let x = 0; x < width; x++) {
        const o = (y * width + x) * channels;
        row.push(Array.from(flat.subarray(o, o + channels)));
      }
      image.push(row);
    }
    return image;
  }

  // ---------------------------------------------------------------- images
  // Draws one [H][W][C] image in [-1, 1] (C = 1, 3 or 4) on `canvas`, pixels round((x + 1) * 127.5).
  function drawFloats(canvas, image) {
    const height = image.length;
    const width = image[0].length;
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d");
    const pixels = context.createImageData(width, height);
    const toByte = (x) => Math.min(255, Math.max(0, Math.round((x + 1) * 127.5)));
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const px = Array.isArray(image[y][x]) ? image[y][x] : [image[y][x]];
        const o = 4 * (y * width + x);
        const rgb = px.length >= 3 ? [px[0], px[1], px[2]] : [px[0], px[0], px[0]];
        pixels.data[o] = toByte(rgb[0]);
        pixels.data[o + 1] = toByte(rgb[1]);
        pixels.data[o + 2] = toByte(rgb[2]);
        pixels.data[o + 3] = px.length === 4 ? toByte(px[3]) : 255;
      }
    }
    context.putImageData(pixels, 0, 0);
    markRendered(canvas);
  }

  // Draws a {"b64": PNG} reply on `canvas`.
  async function drawPng(canvas, encoded) {
    const bytes = Uint8Array.from(atob(encoded.b64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    canvas.getContext("2d").drawImage(bitmap, 0, 0);
    markRendered(canvas);
  }

  function markRendered(canvas) {
    canvas.dataset.renders = String(parseInt(canvas.dataset.renders || "0", 10) + 1);
  }

  function download(canvas, fileName) {
    canvas.toBlob((blob) => {
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = fileName;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    }, "image/png");
  }

  function debounce(fn, ms) {
    let timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  // ---------------------------------------------------------------- latent models
  async function render() {
    const info = state.info;
    if (!info || !KINDS[info.kind].seeded) return;
    const seq = ++state.renderSeq;
    const started = performance.now();
    try {
      let reply, images;
      if (info.runLatents) {
        images = await info.runLatents([currentLatent()], conditioning(1));
      } else {
        const inputs = Object.assign({ seed: seedValue("seed") }, conditioning(1));
        if (!KINDS[info.kind].captions) inputs.num_images = 1; // generate_from_captions_png: one per caption
        reply = await predict(info.pngSignature, inputs);
      }
      if (seq !== state.renderSeq) return; // a newer request is on its way
      if (images) drawFloats($("output"), images[0]);
      else await drawPng($("output"), output(reply, "png_bytes")[0]);
      $("download").disabled = false;
      clearError();
      showTiming($("output"), performance.now() - started, `seed ${seedValue("seed")}`);
    } catch (e) {
      if (seq === state.renderSeq) showError(`Generating from ${state.name} failed: ${e.message}`);
    }
  }
  const renderSoon = debounce(render, DEBOUNCE_MS);

  async function renderStrip() {
    const info = state.info;
    if (!info || !info.runLatents) return;
    const seq = ++state.stripSeq;
    const steps = Math.min(16, Math.max(2, parseInt($("steps").value, 10) || 8));
    const z0 = latentFor(seedValue("seed"), info.latentDim);
    const z1 = latentFor(seedValue("seed-b"), info.latentDim);
    const latents = [];
    for (let i = 0; i < steps; i++) latents.push(slerp(z0, z1, i / (steps - 1)));
    $("strip-from").textContent = String(seedValue("seed"));
    try {
      const images = await info.runLatents(latents, conditioning(steps));
      if (seq !== state.stripSeq) return;
      const strip = $("strip");
      strip.replaceChildren();
      for (const image of images) {
        const canvas = document.createElement("canvas");
        drawFloats(canvas, image);
        strip.appendChild(canvas);
      }
    } catch (e) {
      if (seq === state.stripSeq) showError(`Interpolating with ${state.name} failed: ${e.message}`);
    }
  }
  const renderStripSoon = debounce(renderStrip, DEBOUNCE_MS);

  function buildDirections() {
    const box = $("directions");
    box.replaceChildren();
    state.directions = state.info.runLatents ? makeDirections(state.info.latentDim, NUM_DIRECTIONS) : [];
    state.directions.forEach((_, k) => {
      const row = document.createElement("label");
      row.className = "direction";
      const name = document.createElement("span");
      name.textContent = `direction ${k + 1}`;
      const slider = document.createElement("input");
      Object.assign(slider, { type: "range", id: `direction-${k}`, min: -DIRECTION_RANGE, max: DIRECTION_RANGE,
                              step: 0.1, value: 0 });
      const value = document.createElement("output");
      value.id = `direction-${k}-value`;
      value.textContent = "0.0";
      slider.addEventListener("input", () => {
        value.textContent = parseFloat(slider.value).toFixed(1);
        renderSoon();
      });
      row.append(name, slider, value);
      box.appendChild(row);
    });
    $("directions").parentElement.hidden = state.directions.length === 0;
  }

  // ---------------------------------------------------------------- image-to-image models
  let uploaded = null;

  async function translate() {
    const info = state.info;
    if (!uploaded) return;
    const seq = ++state.renderSeq;
    const input = $("i2i-input");
    const shape = info.inputShape;
    const [height, width, channels] = shape || [uploaded.height, uploaded.width, 3];
    input.width = width;
    input.height = height;
    const context = input.getContext("2d");
    context.drawImage(uploaded, 0, 0, width, height);
    const started = performance.now();
    try {
      let reply;
      if (info.runImages) {
        const rgba = context.getImageData(0, 0, width, height).data;
        const image = [];
        for (let y = 0; y < height; y++) {
          const row = [];
          for (let x = 0; x < width; x++) {
            const o = 4 * (y * width + x);
            const rgb = [rgba[o], rgba[o + 1], rgba[o + 2]];
            // Grey as tf.image.rgb_to_grayscale; values x / 127.5 - 1 as the exported models expect.
            const px = channels === 1 ? [0.2989 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]]
              : channels === 4 ? rgb.concat([rgba[o + 3]]) : rgb;
            row.push(px.map((v) => v / 127.5 - 1));
          }
          image.push(row);
        }
        drawFloats(input, image); // show what the model sees
        const images = await info.runImages([image]);
        if (seq !== state.renderSeq) return;
        drawFloats($("i2i-output"), images[0]);
      } else {
        const b64 = input.toDataURL("image/png").split(",")[1];
        reply = await predict(info.pngSignature, { png_bytes: [{ b64: b64 }] });
        if (seq !== state.renderSeq) return;
        await drawPng($("i2i-output"), output(reply, "png_bytes")[0]);
      }
      $("i2i-download").disabled = false;
      clearError();
      showTiming($("i2i-output"), performance.now() - started,
                 `translated ${uploaded.width}x${uploaded.height} input at ${width}x${height}`);
    } catch (e) {
      if (seq === state.renderSeq) showError(`Translating with ${state.name} failed: ${e.message}`);
    }
  }

  // ---------------------------------------------------------------- loading a model
  function setVersions(versions) {
    const select = $("version-select");
    const chosen = state.version;
    select.replaceChildren(new Option("latest", ""));
    for (const v of versions) select.appendChild(new Option(v, v));
    select.value = versions.includes(chosen) ? chosen : "";
  }

  async function loadModel(name) {
    name = (name || "").trim();
    clearError();
    $("latent-panel").hidden = true;
    $("i2i-panel").hidden = true;
    state.info = null;
    const load = ++state.loadSeq; // a later load (another pick while this one waits) wins
    state.renderSeq++; // and no image of the previous model is drawn any more
    state.stripSeq++;
    for (const canvas of [$("output"), $("i2i-output")]) canvas.dataset.renders = "0";
    if (!name) {
      showError("Pick a model from the list or type its name.");
      return;
    }
    if (name !== state.name) state.version = "";
    state.name = name;
    setStatus(`Loading ${name} ...`);
    setRuntimes(name);
    try {
      if (state.runtime === "device") {
        const info = await device.describe(name);
        setPrecisions(info.sidecar);
        state.loadedVersion = "";
        await device.model(info, $("precision-select").value); // loads the runtime before the first image
        if (load === state.loadSeq) showModel(name, info);
        return;
      }
      let status;
      try {
        status = await api(modelPath(name, ""));
      } catch (e) {
        if (e.status === 404) throw new ApiError(`Unknown model "${name}": ${e.message}`, 404);
        throw e;
      }
      const versions = (status.model_version_status || []).filter((s) => s.state === "AVAILABLE")
        .map((s) => String(s.version)).sort((a, b) => Number(a) - Number(b));
      setVersions(versions);
      const metadata = await api(`${modelPath(name, state.version)}/metadata`);
      state.loadedVersion = (metadata.model_spec || {}).version || state.version || versions[versions.length - 1];
      const info = describe(metadata);
      if (!info.kind) {
        throw new ApiError(`Model "${name}" has signatures [${info.signatures.join(", ")}], which the explorer ` +
                           "does not know. It needs serving_default(latents), from_captions, generate_png, " +
                           "generate_from_captions_png, serving_default(images) or translate_png.");
      }
      if (info.conditional && !info.numClasses) info.numClasses = await probeNumClasses(info);
      if (load === state.loadSeq) showModel(name, serverRunners(info));
    } catch (e) {
      if (load !== state.loadSeq) return;
      setStatus("");
      showError(e.message);
    }
  }

  function showModel(name, info) {
    state.info = info;
    history.replaceState(null, "", `?model=${encodeURIComponent(name)}` +
                                   (state.version ? `&version=${encodeURIComponent(state.version)}` : "") +
                                   (state.runtime === "server" && state.device[name] ? "&runtime=server" : ""));
    document.body.dataset.kind = info.kind;
    document.body.dataset.runtime = state.runtime;
    KINDS[info.kind].show(info);
  }

  // The runtimes offered for `name`: on device when the page lists its files (the default), and the server.
  function setRuntimes(name) {
    const select = $("runtime-select");
    const chosen = select.value || state.requestedRuntime;
    const offered = state.device[name] ? ["device", "server"] : ["server"];
    select.replaceChildren(...offered.map((r) => new Option(RUNTIMES[r], r)));
    state.runtime = offered.includes(chosen) ? chosen : offered[0];
    select.value = state.runtime;
    $("precision-row").hidden = state.runtime !== "device";
    $("version-select").disabled = state.runtime === "device";
  }

  function setPrecisions(sidecar) {
    const select = $("precision-select");
    const chosen = select.value || state.requestedPrecision;
    const files = Object.keys(sidecar.files);
    select.replaceChildren(...files.map((q) => new Option(q, q)));
    select.value = files.includes(chosen) ? chosen : files[0];
  }

  function showLatent(info) {
    $("latent-panel").hidden = false;
    $("class-row").hidden = !info.conditional;
    $("caption-row").hidden = !KINDS[info.kind].captions;
    $("truncation-row").hidden = info.truncation === null;
    $("class-id").max = info.numClasses ? info.numClasses - 1 : "";
    $("class-count").textContent = info.numClasses ? `0 .. ${info.numClasses - 1}` : "class count unknown";
    $("interpolate").parentElement.hidden = !info.runLatents;
    $("strip").replaceChildren();
    buildDirections();
    render();
    if (info.runLatents) renderStrip();
  }

  function showImageToImage(info) {
    $("i2i-panel").hidden = false;
    $("input-size").textContent = info.inputShape
      ? `resized to ${info.inputShape[1]}x${info.inputShape[0]}, ${info.inputShape[2]} channel(s)`
      : "sent at its own size (the model's input size is not in its metadata)";
    setStatus(`${state.name}${state.loadedVersion ? " v" + state.loadedVersion : ""}: upload an image.`);
    if (uploaded) translate();
  }

  async function loadModelList() {
    const select = $("model-select");
    let names = [];
    try {
      const response = await fetch(here("models.json"), { cache: "no-store" });
      if (response.ok) {
        const listed = await response.json();
        names = listed.models || [];
        state.device = listed.device || {};
      }
    } catch (e) {
      names = [];
    }
    select.replaceChildren(new Option(names.length ? "-- choose --" : "(none listed: type a name)", ""));
    for (const name of names) select.appendChild(new Option(name, name));
    return names;
  }

  // ---------------------------------------------------------------- wiring
  function wire() {
    $("model-form").addEventListener("submit", (event) => {
      event.preventDefault();
      loadModel($("model-name").value || $("model-select").value);
    });
    $("model-select").addEventListener("change", () => {
      $("model-name").value = "";
      if ($("model-select").value) loadModel($("model-select").value);
    });
    $("runtime-select").addEventListener("change", () => loadModel(state.name));
    $("precision-select").addEventListener("change", async () => {
      if (!state.info) return;
      try {
        await device.model(state.info, $("precision-select").value);
      } catch (e) {
        showError(`Loading the ${$("precision-select").value} file failed: ${e.message}`);
        return;
      }
      KINDS[state.info.kind].show(state.info);
    });
    $("version-select").addEventListener("change", () => {
      state.version = $("version-select").value;
      loadModel(state.name);
    });
    $("seed").addEventListener("input", () => { renderSoon(); renderStripSoon(); });
    $("random").addEventListener("click", () => {
      $("seed").value = String(Math.floor(Math.random() * 100000));
      render();
      renderStrip();
    });
    $("class-id").addEventListener("input", () => { renderSoon(); renderStripSoon(); });
    $("caption").addEventListener("input", () => { renderSoon(); renderStripSoon(); });
    $("truncation").addEventListener("input", () => {
      $("truncation-value").textContent = parseFloat($("truncation").value).toFixed(2);
      renderSoon();
      renderStripSoon();
    });
    $("reset-directions").addEventListener("click", () => {
      state.directions.forEach((_, k) => {
        $(`direction-${k}`).value = "0";
        $(`direction-${k}-value`).textContent = "0.0";
      });
      render();
    });
    $("seed-b").addEventListener("input", renderStripSoon);
    $("steps").addEventListener("input", renderStripSoon);
    $("interpolate").addEventListener("click", renderStrip);
    $("download").addEventListener("click", () => {
      download($("output"), `${state.name}_seed${seedValue("seed")}.png`);
    });
    $("i2i-download").addEventListener("click", () => download($("i2i-output"), `${state.name}_translated.png`));
    $("upload").addEventListener("change", async () => {
      const file = $("upload").files[0];
      if (!file) return;
      try {
        uploaded = await createImageBitmap(file);
      } catch (e) {
        showError(`Cannot read ${file.name} as an image (PNG or JPEG expected): ${e.message}`);
        return;
      }
      translate();
    });
  }

  async function start() {
    wire();
    const names = await loadModelList();
    const query = new URLSearchParams(location.search);
    const requested = query.get("model");
    state.version = query.get("version") || "";
    state.requestedRuntime = query.get("runtime") || "";
    state.requestedPrecision = query.get("precision") || "";
    if (requested) {
      if (names.includes(requested)) $("model-select").value = requested;
      else $("model-name").value = requested;
      await loadModel(requested);
    } else if (names.length) {
      $("model-select").value = names[0]; // the first model's image at once
      await loadModel(names[0]);
    } else {
      setStatus("No model list from the server: type a model name and press Load.");
    }
  }

  // For tests and benchmarks/browser_latency.py: the device runtime on a model of this page.
  window.tfganExplorer = { device: device, describe: (name) => device.describe(name), latentFor: latentFor };
  start();
})();
