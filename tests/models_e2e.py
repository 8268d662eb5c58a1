#!/usr/bin/env python3
"""Real model libraries: transformers, timm, diffusers and torchvision model files, autoquantized as a user would
(`ffq autoquant <file> -o <out>`, no --class), swapped into a float model with
fastforward.quantize_model; every output tensor must be bitwise identical (stubs are
identity).

Usage: models_e2e.py FFQ_BINARY [NAME...]

Runs itself again under the Python of the venv that scripts/lib.sh's models_deps makes
(.venv-models: pinned
transformers, timm and diffusers over the system torch). Models are built from small configs with
random weights: nothing is downloaded (HF_HUB_OFFLINE=1). Prints one line per model
(converted, imports, bitwise, live) and ends with `models: N passed, M failed`.
"live" is the same comparison after fastforward.autoquantize(model), which converts every
class the live model holds (blocks made by factory functions included).

timm imports torchvision, and PyPI's torchvision wheel for this torch cannot load its
compiled operators beside the CPU-only torch: its import dies in
torchvision/_meta_registrations.py, which registers fake kernels for those operators. That
one module is replaced by an empty one before anything imports torchvision (see
`shim_torchvision`); the rest of torchvision is pure Python and imports normally. No
torchvision operator runs here: timm's resnet/vit/convnext/efficientnet paths only name
torchvision classes (FrozenBatchNorm2d) for isinstance checks and never call its ops.
"""
import contextlib
import copy
import importlib
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "runtime", "python"))
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def shim_torchvision():
    """Let `import torchvision` succeed without its compiled operators (see above)."""
    name = "torchvision._meta_registrations"
    if name not in sys.modules:
        sys.modules[name] = types.ModuleType(name)


def tokens(torch, cfg, n=2, length=7):
    g = torch.Generator().manual_seed(1)
    return torch.randint(0, cfg.vocab_size, (n, length), generator=g)


def image(torch, size=32, n=2):
    g = torch.Generator().manual_seed(2)
    return torch.randn(n, 3, size, size, generator=g)


# Each model: (name, source module, build() -> (model, inputs as kwargs), the block class
# that must be swapped, with quantizers of its own).
def hf_models(torch):
    import transformers as tf

    def llama():
        cfg = tf.LlamaConfig(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)
        # (hidden states asked for: transformers records them by the model's class)
        return tf.LlamaForCausalLM(cfg), {"input_ids": tokens(torch, cfg), "output_hidden_states": True}

    def mistral():
        cfg = tf.MistralConfig(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                               num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                               sliding_window=4)
        return tf.MistralForCausalLM(cfg), {"input_ids": tokens(torch, cfg)}

    def qwen2():
        cfg = tf.Qwen2Config(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)
        return tf.Qwen2ForCausalLM(cfg), {"input_ids": tokens(torch, cfg)}

    def gpt2():
        cfg = tf.GPT2Config(vocab_size=97, n_embd=32, n_layer=2, n_head=4, n_positions=64)
        return tf.GPT2LMHeadModel(cfg), {"input_ids": tokens(torch, cfg)}

    def opt():
        cfg = tf.OPTConfig(vocab_size=97, hidden_size=32, ffn_dim=64, num_hidden_layers=2,
                           num_attention_heads=4, max_position_embeddings=64, word_embed_proj_dim=32)
        return tf.OPTForCausalLM(cfg), {"input_ids": tokens(torch, cfg)}

    def bert():
        cfg = tf.BertConfig(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                            num_attention_heads=4, max_position_embeddings=64, num_labels=3)
        ids = tokens(torch, cfg)
        mask = torch.ones_like(ids)
        mask[1, 5:] = 0
        return tf.BertForSequenceClassification(cfg), {"input_ids": ids, "attention_mask": mask}

    def vit():
        cfg = tf.ViTConfig(image_size=32, patch_size=8, hidden_size=32, intermediate_size=64,
                           num_hidden_layers=2, num_attention_heads=4, num_labels=5)
        return tf.ViTForImageClassification(cfg), {"pixel_values": image(torch)}

    def t5():
        cfg = tf.T5Config(vocab_size=97, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
                          decoder_start_token_id=0)
        ids = tokens(torch, cfg)
        return tf.T5ForConditionalGeneration(cfg), {"input_ids": ids, "decoder_input_ids": ids[:, :4]}

    def mixtral():  # sparse mixture of experts: routing with topk, index_add, one_hot
        # The float model runs the experts' forward as written ("eager"), the code ffq
        # rewrites. By default transformers swaps in another implementation at run time
        # (grouped matrix products over all experts): the same sums in another order, equal
        # bit for bit on some CPUs and not on others (AMD Zen 4). The quantized class keeps
        # the forward ffq generated, whatever the setting.
        cfg = tf.MixtralConfig(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                               num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                               num_local_experts=4, num_experts_per_tok=2, experts_implementation="eager")
        return tf.MixtralForCausalLM(cfg), {"input_ids": tokens(torch, cfg)}

    def bloom():  # ALiBi attention through baddbmm
        cfg = tf.BloomConfig(vocab_size=97, hidden_size=32, n_layer=2, n_head=4)
        return tf.BloomForCausalLM(cfg), {"input_ids": tokens(torch, cfg)}

    def deberta_v2():  # @torch.jit.script helpers (the quantized copies must run eagerly)
        cfg = tf.DebertaV2Config(vocab_size=97, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                 num_attention_heads=4, max_position_embeddings=64)
        return tf.DebertaV2ForMaskedLM(cfg), {"input_ids": tokens(torch, cfg)}

    def swin():  # (w - x % w) % w: a hoisted value whose first use to run is not the first in the text
        cfg = tf.SwinConfig(image_size=32, patch_size=4, embed_dim=16, depths=[1, 1], num_heads=[2, 2],
                            window_size=4)
        return tf.SwinForImageClassification(cfg), {"pixel_values": image(torch)}

    def perceiver():  # position encodings and decoders on an ABCMeta base: their quantized classes take it
        cfg = tf.PerceiverConfig(num_latents=8, d_latents=32, d_model=32, num_blocks=1, num_self_attends_per_block=1,
                                 num_self_attention_heads=2, num_cross_attention_heads=2, vocab_size=97,
                                 max_position_embeddings=64)
        return tf.PerceiverForMaskedLM(cfg), {"inputs": tokens(torch, cfg)}

    def segformer():  # its decode head reads the stage outputs transformers records by model class
        cfg = tf.SegformerConfig(num_encoder_blocks=2, depths=[1, 1], sr_ratios=[2, 1], hidden_sizes=[16, 32],
                                 num_attention_heads=[1, 2], decoder_hidden_size=32, num_labels=3)
        return tf.SegformerForSemanticSegmentation(cfg), {"pixel_values": image(torch, 64)}

    return [
        ("mixtral", "transformers.models.mixtral.modeling_mixtral", mixtral, "MixtralDecoderLayer"),
        ("segformer", "transformers.models.segformer.modeling_segformer", segformer, "SegformerDecodeHead"),
        ("perceiver", "transformers.models.perceiver.modeling_perceiver", perceiver,
         "PerceiverTrainablePositionEncoding"),
        ("bloom", "transformers.models.bloom.modeling_bloom", bloom, "BloomAttention"),
        ("deberta-v2", "transformers.models.deberta_v2.modeling_deberta_v2", deberta_v2,
         "DisentangledSelfAttention"),
        ("swin", "transformers.models.swin.modeling_swin", swin, "SwinLayer"),
        ("llama", "transformers.models.llama.modeling_llama", llama, "LlamaDecoderLayer"),
        ("mistral", "transformers.models.mistral.modeling_mistral", mistral, "MistralDecoderLayer"),
        ("qwen2", "transformers.models.qwen2.modeling_qwen2", qwen2, "Qwen2DecoderLayer"),
        ("gpt2", "transformers.models.gpt2.modeling_gpt2", gpt2, "GPT2Block"),
        ("opt", "transformers.models.opt.modeling_opt", opt, "OPTDecoderLayer"),
        ("bert", "transformers.models.bert.modeling_bert", bert, "BertLayer"),
        ("vit", "transformers.models.vit.modeling_vit", vit, "ViTLayer"),
        ("t5", "transformers.models.t5.modeling_t5", t5, "T5Block"),
    ]


def timm_models(torch):
    shim_torchvision()
    import timm

    def make(arch, size, **kw):
        def build():
            return timm.create_model(arch, pretrained=False, num_classes=10, **kw), {"x": image(torch, size)}
        return build

    return [
        ("timm-resnet50", "timm.models.resnet", make("resnet50", 64), "Bottleneck"),
        ("timm-vit", "timm.models.vision_transformer",
         make("vit_tiny_patch16_224", 32, img_size=32, patch_size=8, depth=2), "Block"),
        ("timm-convnext", "timm.models.convnext", make("convnext_atto", 64), "ConvNeXtBlock"),
        # DenseBlock is an nn.ModuleDict whose forward iterates self.items(): its quantizer
        # slots must stay out of the loop
        ("timm-densenet", "timm.models.densenet", make("densenet121", 64), "DenseBlock"),
        # blocks made by an EfficientNetBuilder object, in another file
        ("timm-efficientnet", "timm.models.efficientnet", make("efficientnet_b0", 64), "InvertedResidual"),
        ("timm-levit", "timm.models.levit", make("levit_128s", 64, img_size=64), "Attention"),
    ]


def diffusers_models(torch):
    shim_torchvision()  # (diffusers imports transformers' image utilities)
    import diffusers

    def dit():
        # diffusers' normalization.py defines `class LayerNorm` only on old torch (else
        # `LayerNorm = nn.LayerNorm`): the converted live model must keep torch's LayerNorm
        # on fastforward's own quantized class
        model = diffusers.DiTTransformer2DModel(num_attention_heads=2, attention_head_dim=8, in_channels=4,
                                                out_channels=8, num_layers=2, sample_size=8, patch_size=2,
                                                num_embeds_ada_norm=10)
        return model, {"hidden_states": image(torch, 8)[:, :1].repeat(1, 4, 1, 1), "timestep": torch.tensor([1, 2]),
                       "class_labels": torch.tensor([0, 3])}

    def noise(*shape, seed=3):
        return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))

    def controlnet():  # Stable Diffusion's cross-attention down blocks (Transformer2DModel, BasicTransformerBlock)
        model = diffusers.ControlNetModel(
            in_channels=4, block_out_channels=(16, 32), layers_per_block=1, cross_attention_dim=24,
            down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), norm_num_groups=8, attention_head_dim=8,
            conditioning_embedding_out_channels=(8, 16))
        with torch.no_grad():  # its output convolutions start at zero: every output would be 0
            for conv in list(model.controlnet_down_blocks) + [model.controlnet_mid_block]:
                conv.weight.normal_(0, 0.2, generator=torch.Generator().manual_seed(6))
        return model, {"sample": noise(2, 4, 16, 16), "timestep": torch.tensor([3, 7]),
                       "encoder_hidden_states": noise(2, 5, 24, seed=4), "controlnet_cond": noise(2, 3, 32, 32, seed=5)}

    def ltx():  # a tanh-GELU feed-forward over 4096 values: an all-stub model must keep torch's bits
        model = diffusers.LTXVideoTransformer3DModel(
            in_channels=8, out_channels=8, patch_size=1, patch_size_t=1, num_attention_heads=2, attention_head_dim=8,
            cross_attention_dim=16, num_layers=1, caption_channels=24)
        return model, {"hidden_states": noise(2, 32, 8), "encoder_hidden_states": noise(2, 5, 24, seed=4),
                       "timestep": torch.tensor([3, 7]), "encoder_attention_mask": torch.ones(2, 5),
                       "num_frames": 2, "height": 4, "width": 4}

    def mochi():  # MochiAttention builds its RMSNorms from a class imported inside __init__
        model = diffusers.MochiTransformer3DModel(
            patch_size=2, num_attention_heads=2, attention_head_dim=8, num_layers=1, pooled_projection_dim=16,
            in_channels=4, text_embed_dim=24, time_embed_dim=16, max_sequence_length=8)
        return model, {"hidden_states": noise(2, 4, 2, 8, 8), "encoder_hidden_states": noise(2, 5, 24, seed=4),
                       "timestep": torch.tensor([3, 7]), "encoder_attention_mask": torch.ones(2, 5, dtype=torch.bool)}

    def chroma():  # embeddings.FluxPosEmbed's __new__ returns transformer_flux.FluxPosEmbed
        model = diffusers.ChromaTransformer2DModel(
            patch_size=1, in_channels=8, num_layers=1, num_single_layers=1, attention_head_dim=8, num_attention_heads=2,
            joint_attention_dim=24, axes_dims_rope=(2, 2, 4), approximator_num_channels=8, approximator_hidden_dim=16,
            approximator_layers=1)
        ids = torch.stack([torch.zeros(16), torch.arange(16.0) // 4, torch.arange(16.0) % 4], dim=1)
        return model, {"hidden_states": noise(2, 16, 8), "encoder_hidden_states": noise(2, 5, 24, seed=4),
                       "timestep": torch.tensor([0.3, 0.7]), "img_ids": ids, "txt_ids": torch.zeros(5, 3)}

    return [
        ("diffusers-dit", "diffusers.models.transformers.dit_transformer_2d", dit, "DiTTransformer2DModel"),
        ("diffusers-controlnet", "diffusers.models.controlnets.controlnet", controlnet, "BasicTransformerBlock"),
        ("diffusers-ltx", "diffusers.models.transformers.transformer_ltx", ltx, "LTXVideoTransformerBlock"),
        ("diffusers-mochi", "diffusers.models.transformers.transformer_mochi", mochi, "MochiRMSNorm"),
        ("diffusers-chroma", "diffusers.models.transformers.transformer_chroma", chroma,
         "ChromaSingleTransformerBlock"),
    ]


def torchvision_models(torch):
    shim_torchvision()  # (pure Python: neither model runs a compiled torchvision operator)
    from torchvision.models import swin_transformer as sw
    from torchvision.models.video import mvit as mv

    def mvit():  # _add_rel_pos / _add_shortcut change the attention and output they are given in place
        cfg = [mv.MSBlockConfig(1, 16, 16, [3, 3, 3], [3, 3, 3], [1, 1, 1], [1, 2, 2]),
               mv.MSBlockConfig(2, 16, 32, [3, 3, 3], [3, 3, 3], [1, 2, 2], [1, 2, 2])]
        model = mv.MViT(spatial_size=(32, 32), temporal_size=4, block_setting=cfg, residual_pool=True,
                        residual_with_cls_embed=False, rel_pos_embed=True, proj_after_attn=True, num_classes=10)
        return model, {"x": torch.randn(1, 3, 4, 32, 32, generator=torch.Generator().manual_seed(3))}

    def swin_v2():  # `qkv_bias = qkv_bias.clone(); qkv_bias[length : 2 * length].zero_()`
        model = sw.SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[1, 1], num_heads=[1, 2],
                                   window_size=[4, 4], num_classes=10, block=sw.SwinTransformerBlockV2,
                                   downsample_layer=sw.PatchMergingV2)
        return model, {"x": image(torch)}

    return [
        ("torchvision-mvit", "torchvision.models.video.mvit", mvit, "MultiscaleAttention"),
        ("torchvision-swin-v2", "torchvision.models.swin_transformer", swin_v2, "ShiftedWindowAttentionV2"),
    ]


def flatten(value, out):
    """Every tensor in a model output (ModelOutput, tuple, list, dict), in order."""
    import torch
    if isinstance(value, torch.Tensor):
        out.append(value)
    elif isinstance(value, dict):  # ModelOutput is an OrderedDict
        for v in value.values():
            flatten(v, out)
    elif isinstance(value, (tuple, list)):
        for v in value:
            flatten(v, out)
    return out


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def compare(torch, fastforward, build, block):
    """(bitwise, detail): build a fresh float model, swap a copy, compare every output."""
    torch.manual_seed(0)
    model, inputs = build()
    model.eval()
    fastforward.set_strict_quantization(False)  # stubs pass float tensors on (float fallback)
    quant = copy.deepcopy(model)
    # Submodule types ffq generated no class for (torch's own activations built through a
    # registry, for instance) run as float surrogates, as in torchvision_e2e.py.
    quant = fastforward.quantize_model(
        quant, extra_conversion=fastforward.surrogate_quantized_modules(quant))
    swapped = sorted({type(m).__name__ for m in quant.modules() if type(m).__name__.startswith("Quantized")})
    with torch.no_grad():
        want = flatten(model(**inputs), [])
        got = flatten(quant(**inputs), [])
    same = len(want) == len(got) and all(
        a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b) for a, b in zip(want, got))
    detail = "%d outputs, swapped %d classes (%s)" % (len(want), len(swapped), ", ".join(swapped))
    if not swapped:
        return False, "no module was swapped"
    if block and "Quantized" + block not in swapped:
        return False, "%s was not swapped; %s" % (block, detail)
    if block and not any(isinstance(c, fastforward.nn.Quantizer) for m in quant.modules()
                         if type(m).__name__ == "Quantized" + block for c in m.children()):
        return False, "%s has no quantizers; %s" % (block, detail)
    return same, detail if same else "OUTPUT DIFFERS; " + detail


def _sqnr(torch, ref, got):
    noise = float(((got.double() - ref.double()) ** 2).sum())
    signal = float((ref.double() ** 2).sum())
    return float("inf") if noise == 0 else 10 * __import__("math").log10(max(signal, 1e-300) / noise)


def integer_check(torch, fastforward, build, ffq):
    """(ok, detail): the README's workflow (quantize w8a8, calibrate) on a fresh model, then
    the integer path (the default, under torch.inference_mode) against the simulated path:
    their outputs agree to 30 dB or better and the integer path is about as far from the
    float model (at most 3 dB further: the outputs are small, and a deep CNN spreads the
    one-step flips where exact integer sums and float sums round a tie differently). Most
    models are bit-identical; a broken kernel or a dtype the model code trips on costs
    tens of dB."""
    from fastforward import _integer

    def real(t):
        return (t.dequantize() if hasattr(t, "dequantize") else t).float()

    torch.manual_seed(0)
    model, inputs = build()
    model.eval()
    with torch.no_grad():
        ref = flatten(model(**inputs), [])[0].float()
    env = dict(os.environ, FFQ_BINARY=ffq)
    saved, os.environ = os.environ, env
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            fastforward.quantize(model, weights=8, activations=8)
    finally:
        os.environ = saved
    with torch.no_grad(), fastforward.calibration(model):
        model(**inputs)
    with torch.no_grad(), _integer.integer_execution(False):
        sim = real(flatten(model(**inputs), [])[0])
    with torch.inference_mode():
        got = real(flatten(model(**inputs), [])[0])
    s_sim, s_int, s_both = _sqnr(torch, ref, sim), _sqnr(torch, ref, got), _sqnr(torch, sim, got)
    ok = got.shape == sim.shape and s_both >= 30 and s_int >= s_sim - 3
    return ok, "w8a8 vs float: simulated %.1f dB, integer %.1f dB; integer vs simulated %.1f dB" % (
        s_sim, s_int, s_both)


def run_one(ffq, torch, fastforward, name, module, build, block, out_dir):
    """Returns (converted, imports, bitwise, live, integer, detail)."""
    src = importlib.import_module(module).__file__
    out = os.path.join(out_dir, module.replace(".", "_") + ".py")
    t0 = time.perf_counter()
    p = subprocess.run([ffq, "autoquant", src, "--module", module, "-o", out, "-f", "--python", sys.executable],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ms = (time.perf_counter() - t0) * 1e3
    warnings = [line for line in p.stderr.splitlines() if "warning:" in line]
    stubs = re.search(r"(\d+) quantizer stub", p.stderr)
    info = "ffq %.0f ms, %s stubs, %d warnings" % (ms, stubs.group(1) if stubs else "?", len(warnings))
    if p.returncode != 0 or not os.path.exists(out):
        return False, False, False, False, False, "ffq exit %d: %s" % (p.returncode, p.stderr.strip()[-2000:])
    try:
        load("ffq_generated_" + module.replace(".", "_"), out)
    except Exception as e:  # noqa: BLE001 - report and go on
        return True, False, False, False, False, "import: %s: %s (%s)" % (type(e).__name__, e, info)
    try:
        bitwise, detail = compare(torch, fastforward, build, block)
    except Exception as e:  # noqa: BLE001
        bitwise, detail = False, "run: %s: %s" % (type(e).__name__, e)
    detail += " (%s)" % info
    # The live path: fastforward.autoquantize(model) converts every class model.modules() holds.
    try:
        torch.manual_seed(0)
        live_model, _ = build()
        env = dict(os.environ, FFQ_BINARY=ffq)
        saved, os.environ = os.environ, env
        try:
            with contextlib.redirect_stderr(io.StringIO()):  # ffq's notes, already shown above
                text = fastforward.autoquantize(live_model)
        finally:
            os.environ = saved
        path = os.path.join(out_dir, "live_" + module.replace(".", "_") + ".py")
        with open(path, "w") as f:
            f.write(text)
        load("ffq_live_" + module.replace(".", "_"), path)
        live, live_detail = compare(torch, fastforward, build, block)
    except Exception as e:  # noqa: BLE001
        live, live_detail = False, "%s: %s" % (type(e).__name__, str(e)[-1500:])
    if not live:
        detail += "\n      live: " + live_detail
    try:
        integer, integer_detail = integer_check(torch, fastforward, build, ffq)
    except Exception as e:  # noqa: BLE001
        integer, integer_detail = False, "%s: %s" % (type(e).__name__, str(e)[-1500:])
    detail += "\n      " + ("" if integer else "INTEGER PATH: ") + integer_detail
    if warnings:
        detail += "\n      " + "\n      ".join(warnings[:8])
    return True, True, bitwise, live, integer, detail



def main():
    ffq = os.path.abspath(sys.argv[1])
    venv = os.path.join(ROOT, ".venv-models")
    if os.path.realpath(sys.prefix) != os.path.realpath(venv):
        python = os.path.join(venv, "bin", "python")
        if not os.path.exists(python):
            print("models: skipped (no %s: scripts/test makes it with models_deps)" % venv)
            return 77
        os.execv(python, [python] + sys.argv)
    only = set(sys.argv[2:])
    try:
        import torch
    except ImportError as e:
        print("models: skipped (%s)" % e)
        return 0
    import fastforward

    models = []
    for family in (hf_models, timm_models, diffusers_models, torchvision_models):
        try:
            models += family(torch)
        except ImportError as e:
            print("models: %s skipped (%s)" % (family.__name__, e))
    if not models:
        print("models: skipped (neither transformers nor timm is installed; scripts/test installs them)")
        return 0
    out_dir = tempfile.mkdtemp(prefix="ffq-models-")
    passed = failed = 0
    print("torch %s; generated code in %s" % (torch.__version__, out_dir))
    print("%-18s %-9s %-7s %-7s %-7s %-7s" % ("model", "converted", "imports", "bitwise", "live", "integer"))
    yes = {True: "yes", False: "NO"}
    for name, module, build, block in models:
        if only and name not in only:
            continue
        converted, imports, bitwise, live, integer, detail = run_one(
            ffq, torch, fastforward, name, module, build, block, out_dir)
        ok = bitwise and live and integer
        passed += ok
        failed += not ok
        print("%-18s %-9s %-7s %-7s %-7s %-7s %s" % (name, yes[converted], yes[imports], yes[bitwise], yes[live],
                                                     yes[integer], detail))
        sys.stdout.flush()
    print("models: %d passed, %d failed" % (passed, failed))
    if failed:
        print("generated code kept in %s" % out_dir)
        return 1
    shutil.rmtree(out_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
