"""The claim history of each watch: every alerted claim, who carried it first, and who repeated it since.

A claim is recorded once (its id: ``claim_id``, the hash of the watch and its folded text) with its
first source; every later article whose sentence the workers judged known *because of* that claim
(the nearest known sentence is the claim, or a repeat of it) adds one corroboration: outlet, time,
language, link. Exact copies of an article that carried claims corroborate them too.

Timeline and filters: alongside each record, one line per claim is appended to a chunk of
``CHUNK`` lines (``cw:w:{watch}:claims:lines:{n}``): ``seq US id US unix time US lang US outlet US
text``, outlet and text folded (``monitor.filters.fold``). A page newest first, with or without
filters, is one Lua script that reads the chunks from the newest down and stops once it has a page:
a plain ``string.find`` of the filter's rarest word over ~250 KB a chunk, so even a word no claim
has reads every chunk in one pass (benchmarks/desk_timeline.py: 100,000 claims, README "The
analyst's desk" has the numbers). Paging is by cursor (``before``: a claim's ``seq``), so page 500
costs what page 1 does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis

from monitor.filters import fold
from monitor.store import keys
from monitor.store.claim_record import US, Source, clean, decode_repeat, encode_repeat
from monitor.store.hashing import digest, digest_bytes
from monitor.store.values import as_str

CHUNK = 1000  # claims per search chunk
SHOWN = 100  # repeats listed with each claim of a page (the summary counts them all; one claim: all)

# Record a claim once. KEYS: claims hash, seq counter, claim-of hash, by-url hash.
# ARGV: id, record JSON (seq is added here), chunk key prefix, line after "seq US", sentence digest, url digest.
RECORD = r"""
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local seq = redis.call('INCR', KEYS[2])
local rec = cjson.decode(ARGV[2])
rec['seq'] = seq
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(rec))
redis.call('APPEND', ARGV[3] .. math.floor((seq - 1) / tonumber(ARGV[7])), seq .. '\31' .. ARGV[4] .. '\n')
redis.call('HSET', KEYS[3], ARGV[5], ARGV[1])
local ids = redis.call('HGET', KEYS[4], ARGV[6])
if not ids then ids = ARGV[1] elseif not string.find(ids, ARGV[1], 1, true) then ids = ids .. ',' .. ARGV[1] end
redis.call('HSET', KEYS[4], ARGV[6], ids)
return seq
"""

# Add a repeat unless this article already repeats this claim. KEYS: the claim's list. ARGV: url digest, element.
CORROBORATE = r"""
for _, v in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if string.sub(v, 1, #ARGV[1]) == ARGV[1] then return 0 end
end
return redis.call('RPUSH', KEYS[1], ARGV[2])
"""

# A page newest first. KEYS: chunks, newest first. ARGV: limit, before seq (0: none), lang, outlet, since,
# until (unix seconds; 0: none), then the text's words (each must be in the text; the first is searched for).
SEARCH = r"""
local limit, before, lang, outlet = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
local since, till = tonumber(ARGV[5]), tonumber(ARGV[6])
local words = {}
for i = 7, #ARGV do words[#words + 1] = ARGV[i] end
local function fits(line)
  local seq, id, ts, lg, out, text = string.match(line, '^(%d+)\31([^\31]*)\31(%d+)\31([^\31]*)\31([^\31]*)\31(.*)$')
  if not seq then return nil end
  seq, ts = tonumber(seq), tonumber(ts)
  if before > 0 and seq >= before then return nil end
  if since > 0 and ts < since then return nil end
  if till > 0 and ts > till then return nil end
  if lang ~= '' and lg ~= lang then return nil end
  if outlet ~= '' and not string.find(out, outlet, 1, true) then return nil end
  for _, w in ipairs(words) do
    if not string.find(text, w, 1, true) then return nil end
  end
  return seq .. ' ' .. id
end
local needle = words[1] or (outlet ~= '' and outlet) or nil
local out = {}
for k = 1, #KEYS do
  local blob = redis.call('GET', KEYS[k])
  if blob and (since > 0 or till > 0) then  -- chunks are in time order: skip the ones out of range
    local first = tonumber(string.match(blob, '^%d+\31[^\31]*\31(%d+)'))
    local last = tonumber(string.match(string.sub(blob, -2048), '.*\n%d+\31[^\31]*\31(%d+)') or
                          string.match(blob, '^%d+\31[^\31]*\31(%d+)'))
    if since > 0 and last and last < since then break end
    if till > 0 and first and first > till then blob = nil end
  end
  if blob then
    local hits = {}
    if needle then
      local pos, ls = 1, 1
      while true do
        local s = string.find(blob, needle, pos, true)
        if not s then break end
        local nl = string.find(blob, '\n', ls, true)
        while nl and nl < s do ls = nl + 1; nl = string.find(blob, '\n', ls, true) end
        if not nl then break end
        local hit = fits(string.sub(blob, ls, nl - 1))
        if hit then hits[#hits + 1] = hit end
        pos, ls = nl + 1, nl + 1
      end
    else
      for line in string.gmatch(blob, '([^\n]*)\n') do
        local hit = fits(line)
        if hit then hits[#hits + 1] = hit end
      end
    end
    for i = #hits, 1, -1 do
      out[#out + 1] = hits[i]
      if #out >= limit then return out end
    end
  end
end
return out
"""


def claim_id(watch: str, text: str) -> str:
    """A claim's id: the same text in the same watch is one claim."""
    return digest(f"{watch}|{fold(text)}", 12)


def sentence_key(text: str) -> bytes:
    """The field of a sentence in the claim-of hash (its folded text's 8-byte hash)."""
    return digest_bytes(fold(text))


def _unix(iso: str | None) -> int:
    if not iso:
        return 0
    try:
        return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


@dataclass(frozen=True)
class Filters:
    """What a timeline page asks for: every field optional."""

    text: str = ""
    outlet: str = ""
    lang: str = ""
    since: str | None = None  # ISO 8601 date or time, first seen at or after
    until: str | None = None  # ... at or before (a date: that whole day)

    def words(self) -> list[str]:
        return sorted(set(fold(self.text).split()), key=len, reverse=True)  # the longest first: the rarest

    def args(self) -> list[str]:
        until = _unix(self.until) + (86399 if self.until and len(self.until) == 10 else 0) if self.until else 0
        return [self.lang.strip().lower(), fold(self.outlet), str(_unix(self.since)), str(until), *self.words()]


class Claims:
    """``cw:w:{watch}:claims*``, ``:claimof``, ``:byurl``, ``:repeats:{id}``."""

    def __init__(self, client: redis.Redis):
        self.client = client
        self._record = client.register_script(RECORD)
        self._corroborate = client.register_script(CORROBORATE)
        self._search = client.register_script(SEARCH)

    # ------------------------------------------------------------------ writing (the workers)

    def record(self, watch: str, text: str, attribution: str | None, source: Source, alert_id: str,
               nearest: Mapping[str, Any] | None = None) -> int:
        """Record an alerted claim with its first source; its seq, or 0 when it was recorded before."""
        cid = claim_id(watch, text)
        rec = {"id": cid, "text": text, "attribution": attribution, "alert": alert_id,
               "nearest_known": dict(nearest) if nearest else None, "first": source.to_dict()}
        line = US.join([cid, str(_unix(source.seen) or int(time.time())), clean(source.lang).lower(),
                         fold(clean(source.outlet)), fold(clean(text))])
        return int(self._record(
            keys=[keys.claims(watch), keys.claims_seq(watch), keys.claim_of(watch), keys.claims_by_url(watch)],
            args=[cid, json.dumps(rec, ensure_ascii=False), keys.claims_chunk(watch, ""), line, sentence_key(text),
                  digest_bytes(source.url), CHUNK]))

    def claims_of_sentences(self, watch: str, sentences: Iterable[str]) -> dict[str, str]:
        """Which of these (known) sentences are an alerted claim or a repeat of one: sentence -> claim id."""
        sents = list(dict.fromkeys(sentences))
        if not sents:
            return {}
        ids = self.client.hmget(keys.claim_of(watch), [sentence_key(s) for s in sents])
        return {s: as_str(i) for s, i in zip(sents, ids, strict=True) if i}

    def claims_of_article(self, watch: str, url: str) -> list[str]:
        """The claims an article carried (first or as a repeat)."""
        raw = self.client.hget(keys.claims_by_url(watch), digest_bytes(url))
        return as_str(raw).split(",") if raw else []

    def corroborate(self, watch: str, cid: str, source: Source, sentence: str | None = None) -> bool:
        """One more article repeating claim ``cid`` (once per article); its sentence now stands for the
        claim too, so a copy of the copy counts."""
        added = bool(self._corroborate(keys=[keys.claim_repeats(watch, cid)],
                                       args=[digest(source.url, 8), encode_repeat(source)]))
        pipe = self.client.pipeline(transaction=False)
        if sentence:
            pipe.hsetnx(keys.claim_of(watch), sentence_key(sentence), cid)
        field = digest_bytes(source.url)
        pipe.hget(keys.claims_by_url(watch), field)
        ids = pipe.execute()[-1]
        known = as_str(ids).split(",") if ids else []
        if cid not in known:
            self.client.hset(keys.claims_by_url(watch), field, ",".join([*known, cid]))
        return added

    # ------------------------------------------------------------------ reading (the desk)

    def repeats(self, watch: str, text: str) -> int | None:
        """How many later articles repeated the alerted claim ``text`` (None: no such claim recorded)."""
        cid = claim_id(watch, text)
        pipe = self.client.pipeline(transaction=False)
        pipe.hexists(keys.claims(watch), cid)
        pipe.llen(keys.claim_repeats(watch, cid))
        recorded, n = pipe.execute()
        return int(n) if recorded else None

    def count(self, watch: str) -> int:
        return int(self.client.hlen(keys.claims(watch)))

    def last_seq(self, watch: str) -> int:
        return int(self.client.get(keys.claims_seq(watch)) or 0)

    def page(self, watch: str, filters: Filters = Filters(), limit: int = 20,
             before: int = 0) -> tuple[list[dict[str, Any]], int | None]:
        """Claims newest first (seq below ``before`` when > 0), and the cursor of the next page (None: the end)."""
        last = self.last_seq(watch)
        top = min(last, before - 1) if before > 0 else last
        if top <= 0:
            return [], None
        chunks = [keys.claims_chunk(watch, n) for n in range((top - 1) // CHUNK, -1, -1)]
        hits = self._search(keys=chunks, args=[limit + 1, before, *filters.args()])
        ids = [as_str(h).split(" ", 1) for h in hits]
        page = self.get_many(watch, [cid for _seq, cid in ids[:limit]])
        more = int(ids[limit - 1][0]) if len(ids) > limit else None
        return page, more

    def get_many(self, watch: str, ids: list[str], repeats: bool = True,
                 shown: int | None = SHOWN) -> list[dict[str, Any]]:
        """The claims' records, each with its corroboration (``repeats``: the first ``shown`` repeats,
        every one when None) and a summary of all of them."""
        if not ids:
            return []
        pipe = self.client.pipeline(transaction=False)
        pipe.hmget(keys.claims(watch), ids)
        for cid in ids:
            pipe.lrange(keys.claim_repeats(watch, cid), 0, -1) if repeats else pipe.llen(keys.claim_repeats(watch, cid))
        raw, *lists = pipe.execute()
        out = []
        for rec, reps in zip(raw, lists, strict=True):
            if rec is None:
                continue
            claim = json.loads(rec)
            if repeats:
                rs = [decode_repeat(r) for r in reps]
                claim["corroboration"] = rs if shown is None else rs[:shown]
                claim["summary"] = {"repeats": len(rs), "outlets": len({r["outlet"] for r in rs}),
                                    "languages": sorted({r["lang"] for r in rs if r["lang"]})}
            else:
                claim["summary"] = {"repeats": int(reps)}
            out.append(claim)
        return out

    def get(self, watch: str, cid: str) -> dict[str, Any] | None:
        found = self.get_many(watch, [cid], shown=None)
        return found[0] if found else None

    def annotate(self, watch: str, cid: str, **fields: Any) -> bool:
        """Add fields to a claim's record (the user's feedback on it); False when there is no such claim."""
        raw = self.client.hget(keys.claims(watch), cid)
        if raw is None:
            return False
        rec = json.loads(raw)
        rec.update(fields)
        self.client.hset(keys.claims(watch), cid, json.dumps(rec, ensure_ascii=False))
        return True
