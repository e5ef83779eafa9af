"""Tiny random-weight models built offline, saved the way a hub checkout would be, and loaded
through the same `SentenceTransformer(path)` / `CrossEncoder(path)` code production uses."""

from __future__ import annotations

import string
from pathlib import Path

WORDS = (
    "towel bath cotton soft mug coffee ceramic saw blade steel band sneaker running shoe lamp "
    "desk light red blue green white black the a for and with of to in"
).split()


def _wordpiece_vocab() -> dict[str, int]:
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokens += list(string.ascii_lowercase + string.digits + string.punctuation)
    tokens += ["##" + c for c in string.ascii_lowercase + string.digits]
    tokens += [w for w in WORDS if w not in tokens]
    return {token: i for i, token in enumerate(tokens)}


def build_tiny_cross_encoder(out: Path, *, seed: int = 0) -> Path:
    """A 2-layer BERT sequence classifier (one logit) with a WordPiece vocab built here."""
    import torch
    from sentence_transformers import CrossEncoder
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    out = Path(out)
    raw = out.parent / (out.name + "-raw")
    raw.mkdir(parents=True, exist_ok=True)
    tokenizer = BertTokenizerFast(vocab=_wordpiece_vocab())
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
        num_labels=1,
        initializer_range=0.2,  # spread the random scores so orderings are not ties
    )
    BertForSequenceClassification(config).save_pretrained(raw)
    tokenizer.save_pretrained(raw)
    CrossEncoder(str(raw), device="cpu", max_length=128).save(str(out), create_model_card=False)
    return out


def _byte_level_chars() -> list[str]:
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    return sorted(set(bytes_to_unicode().values()))


def build_tiny_clip(out: Path, *, seed: int = 0) -> Path:
    """A dual encoder (CLIP text + vision towers, 16-dim projection) with a char-level BPE
    vocab: sentence-transformers reads text OR image with it, never both in one input."""
    import torch
    from transformers import (
        CLIPConfig,
        CLIPImageProcessorPil,
        CLIPModel,
        CLIPProcessor,
        CLIPTokenizer,
    )

    chars = _byte_level_chars()
    specials = ["<|startoftext|>", "<|endoftext|>"]
    vocab = {t: i for i, t in enumerate(specials + chars + [c + "</w>" for c in chars])}
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=64)
    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    )
    eos, bos = vocab["<|endoftext|>"], vocab["<|startoftext|>"]
    torch.manual_seed(seed)
    config = CLIPConfig(
        text_config=dict(
            vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=2, max_position_embeddings=64, bos_token_id=bos, eos_token_id=eos,
            pad_token_id=eos,
        ),
        vision_config=dict(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
            image_size=32, patch_size=8,
        ),
        projection_dim=16,
    )  # fmt: skip
    out = Path(out)
    CLIPModel(config).eval().save_pretrained(out)
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(out)
    return out


# Qwen3-VL-style chat templates, cut to what the tiny models need: the embedder pools the last
# token after the assistant prefix; the reranker asks for a yes/no judgement.
_RENDER = (
    "{%- macro render(content) -%}{%- if content is string -%}{{ content }}{%- else -%}"
    "{%- for item in content -%}{%- if item.type == 'image' -%}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{%- elif item.type == 'text' -%}{{ item.text }}{%- endif -%}{%- endfor -%}{%- endif -%}"
    "{%- endmacro -%}"
)
_EMBED_TEMPLATE = (
    _RENDER + "{%- for m in messages -%}<|im_start|>{{ m.role }}\n{{ render(m.content) }}"
    "<|im_end|>\n{% endfor -%}<|im_start|>assistant\n"
)
_RERANK_TEMPLATE = (
    _RENDER + "<|im_start|>system\nJudge whether the Document meets the requirements of the "
    'Query. Answer only "yes" or "no".<|im_end|>\n<|im_start|>user'
    "{%- for m in messages -%}{%- if m.role == 'query' %}\n<Query>: {{ render(m.content) }}"
    "{%- elif m.role == 'document' %}\n<Document>: {{ render(m.content) }}"
    "{%- else %}\n{{ render(m.content) }}{%- endif -%}{%- endfor -%}<|im_end|>\n"
    "<|im_start|>assistant\n"
)
_QWEN_SPECIALS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
    "<|image_pad|>", "<|video_pad|>",
]  # fmt: skip


def register_image_only_qwen3vl_processor() -> None:
    """transformers 5 builds Qwen3VLProcessor with a video processor that needs torchvision,
    which cannot be installed beside this CPU torch. Tests register an image-only processor
    for the tiny models; real GPU hosts install a matching torchvision instead."""
    from transformers import AutoProcessor, Qwen3VLConfig, Qwen3VLProcessor

    class Qwen3VLImageOnlyProcessor(Qwen3VLProcessor):
        def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
            super().__init__(
                image_processor, tokenizer, None, chat_template=chat_template, **kwargs
            )

    AutoProcessor.register(Qwen3VLConfig, Qwen3VLImageOnlyProcessor, exist_ok=True)
    return Qwen3VLImageOnlyProcessor


def _qwen_processor(template: str):
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen2VLImageProcessorPil

    vocab = {c: i for i, c in enumerate(_byte_level_chars())}
    for word in ["yes", "no", "Ġyes", "Ġno"]:  # LogitScore needs single-token yes/no
        vocab.setdefault(word, len(vocab))
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], fuse_unk=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in _QWEN_SPECIALS])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=512)
    tokenizer.pad_token, tokenizer.eos_token = "<|endoftext|>", "<|im_end|>"
    image_processor = Qwen2VLImageProcessorPil(
        patch_size=16, merge_size=2, temporal_patch_size=2,
        size={"shortest_edge": 32 * 32, "longest_edge": 64 * 64},
        image_mean=[0.5] * 3, image_std=[0.5] * 3,
    )  # fmt: skip
    processor_class = register_image_only_qwen3vl_processor()
    return processor_class(
        image_processor=image_processor, tokenizer=tokenizer, chat_template=template
    )


def _qwen_config(tokenizer):
    from transformers import Qwen3VLConfig

    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in _QWEN_SPECIALS}
    return Qwen3VLConfig(
        text_config=dict(
            vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=2, num_key_value_heads=1, head_dim=16, max_position_embeddings=1024,
            rope_parameters={
                "rope_type": "default", "rope_theta": 5e6, "mrope_section": [4, 2, 2],
                "mrope_interleaved": True,
            },
            pad_token_id=ids["<|endoftext|>"],
        ),
        vision_config=dict(
            depth=2, hidden_size=32, intermediate_size=64, num_heads=2, patch_size=16,
            spatial_merge_size=2, temporal_patch_size=2, out_hidden_size=32,
            num_position_embeddings=16, deepstack_visual_indexes=[1],
        ),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
    )  # fmt: skip


def build_tiny_qwen3vl_embedder(out: Path, *, seed: int = 0) -> Path:
    """Qwen3-VL-Embedding-shaped: Transformer(feature-extraction) + last-token pooling +
    Normalize; reads one combined {"text", "image"} input."""
    import shutil

    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling
    from transformers import Qwen3VLModel

    out = Path(out)
    raw = out.parent / (out.name + "-raw")
    processor = _qwen_processor(_EMBED_TEMPLATE)
    torch.manual_seed(seed)
    Qwen3VLModel(_qwen_config(processor.tokenizer)).save_pretrained(raw)
    processor.save_pretrained(raw)
    transformer = Transformer(str(raw), transformer_task="feature-extraction", unpad_inputs=False)
    pooling = Pooling(transformer.get_embedding_dimension(), "lasttoken")
    model = SentenceTransformer(
        modules=[transformer, pooling, Normalize()],
        device="cpu",
        prompts={"query": "Retrieve products matching the query.", "document": ""},
    )
    model.save(str(out), create_model_card=False)
    shutil.rmtree(raw)
    return out


def build_tiny_qwen3vl_reranker(out: Path, *, seed: int = 0) -> Path:
    """Qwen3-VL-Reranker-shaped: Transformer(any-to-any) + LogitScore(yes, no)."""
    import shutil

    import torch
    from sentence_transformers import CrossEncoder
    from sentence_transformers.base.modules import Transformer
    from sentence_transformers.cross_encoder.modules import LogitScore
    from transformers import Qwen3VLForConditionalGeneration

    out = Path(out)
    raw = out.parent / (out.name + "-raw")
    processor = _qwen_processor(_RERANK_TEMPLATE)
    torch.manual_seed(seed)
    Qwen3VLForConditionalGeneration(_qwen_config(processor.tokenizer)).save_pretrained(raw)
    processor.save_pretrained(raw)
    transformer = Transformer(str(raw), transformer_task="any-to-any")
    tok = transformer.tokenizer
    score = LogitScore(tok.convert_tokens_to_ids("yes"), tok.convert_tokens_to_ids("no"))
    CrossEncoder(modules=[transformer, score], device="cpu").save(str(out), create_model_card=False)
    shutil.rmtree(raw)
    return out


def build_tiny_text_embedder(out: Path, *, seed: int = 0) -> Path:
    """A 2-layer BERT with mean pooling, saved as a sentence-transformers text embedder (the
    shape of all-MiniLM-L6-v2, a thousand times smaller): training it takes seconds."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    out = Path(out)
    raw = out.parent / (out.name + "-raw")
    raw.mkdir(parents=True, exist_ok=True)
    tokenizer = BertTokenizerFast(vocab=_wordpiece_vocab())
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=256,
    )  # fmt: skip
    BertModel(config).save_pretrained(raw)
    tokenizer.save_pretrained(raw)
    transformer = Transformer(str(raw), max_seq_length=128)
    pooling = Pooling(transformer.get_embedding_dimension(), "mean")
    model = SentenceTransformer(modules=[transformer, pooling, Normalize()], device="cpu")
    model.save(str(out))
    return out
