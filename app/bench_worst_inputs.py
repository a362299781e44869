"""Made-up inputs for the worst cases: word text, a radix request stream, chained-call modules."""

from __future__ import annotations

import functools
import json


@functools.cache
def _word_cycle() -> tuple[str, ...]:
    """The made-up words in the order :func:`words` draws them: word ``i`` is ``vocab[i * 7919 %
    len(vocab)]``, which repeats after ``len(vocab)`` words (7919 is prime to it)."""
    syllables = [f"{a}{b}{c}" for a in "bdfgklmnprst" for b in "aeiou" for c in ("n", "r", "st", "ll", "")]
    vocab = [a + b for a in syllables for b in syllables[:100]]
    return tuple(vocab[(i * 7919) % len(vocab)] for i in range(len(vocab)))


def words(chars: int, sentence: int = 0, spaces: bool = True) -> str:
    """ASCII text of exactly ``chars`` characters: made-up words (a period every ``sentence``)."""
    cycle, count = _word_cycle(), min(chars // 4 + 1, 250_000)
    picked = list(cycle * (count // len(cycle) + 1))[:count]  # repeated at C speed, not word by word
    if sentence:
        picked[sentence - 1::sentence] = [w + "." for w in picked[sentence - 1::sentence]]
    unit = (" " if spaces else "").join(picked) + (" " if spaces else "")
    return (unit * (chars // len(unit) + 1))[:chars]


def json_len(value: object) -> int:
    """Bytes ``value`` takes in a scenario file (the compact encoding, a lower bound)."""
    return len(json.dumps(value, separators=(",", ":")))


def callgraph_files(n: int, chars: int) -> dict[str, str]:
    def module(i: int) -> str:
        nxt = f"m{(i + 1) % n:04d}"
        body, j, size = [f"import {nxt}\n"], 0, 0
        while size < chars - 80:
            body.append(f"def f{j}(x):\n    return f{j + 1}(x) + {nxt}.f{j}(x)\n")
            size, j = size + len(body[-1]), j + 1
        body.append(f"def f{j}(x):\n    return x\n")
        return "".join(body)
    return {f"m{i:04d}.py": module(i) for i in range(n)}


def radix_stream(total: int) -> list[list[str]]:
    """``total`` blocks of requests shaped like the bench stream: one of 8 system prompts (12 blocks),
    one of 6 few-shot sets (8), one of 300 templates (2-5) and a unique tail (1-5)."""
    import numpy as np

    rng = np.random.default_rng(0)
    n = total // 20 + 1
    s, f, t, tl, tail = (rng.integers(0, k, n).tolist() for k in (8, 6, 300, 4, 5))
    sys_ = [[f"sys{i}.{j}" for j in range(12)] for i in range(8)]
    shots = [[[f"shot{i}.{k}.{j}" for j in range(8)] for k in range(6)] for i in range(8)]
    tmpl = [[f"tmpl{i}.{j}" for j in range(5)] for i in range(300)]
    out, blocks = [], 0
    for r in range(n):
        req = (sys_[s[r]] + shots[s[r]][f[r]] + tmpl[t[r]][:tl[r] + 2]
               + [f"r{r}.{j}" for j in range(tail[r] + 1)])
        out.append(req[:total - blocks])
        blocks += len(out[-1])
        if blocks >= total:
            return out
    raise AssertionError("radix_stream: too few requests drawn")
