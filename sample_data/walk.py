"""One chunk of simulated sessions as contract events: draw the sessions, walk each variant.

``chunk_table`` draws a chunk's sessions (store, variant, device, language, start time), runs
the behaviour model per variant (``sample_data.model.outcomes``) and emits each session's
events in the order the runtime would: start, consent, per task the screens walked with taps,
detours and misclicks, the task's end and its own question, the end questionnaire, a comment,
the end. Loops run per variant, task, screen step and misclick count, never per session.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from experiments.assignment import assign_many
from sample_data.answers import item_model
from sample_data.calibration import Calibration
from sample_data.design import Arm, ArmProblem, PilotDesign
from sample_data.encoding import (
    ArmCodes,
    Buffer,
    ChunkSessions,
    Labels,
    Period,
    Positions,
    Vocab,
    events_table,
    uuid4_strings,
)
from sample_data.model import Outcomes, StoreEffects, draw_noise, outcomes
from sample_data.own import OwnAnswers, OwnTruth, mark_goals, tally_goals
from sample_data.problem import ThemeCodes

EN_SHARE = 0.12
OPEN_HOUR, CLOSE_HOUR = 10, 20


@dataclass(frozen=True)
class ChunkContext:
    """Everything every chunk of one simulation shares."""

    design: PilotDesign
    cal: Calibration
    stores: StoreEffects
    period: Period
    vocab: Vocab
    positions: Positions
    codes: dict[str, ArmCodes]
    comment_codes: dict[tuple[str, str], np.ndarray]  # (locale, mood) -> text codes
    seed: int
    theme: ThemeCodes | None = None  # a planted problem's comments
    tally: dict[str, dict[str, int]] = field(default_factory=dict)  # what the problem did
    own_truth: OwnTruth = field(default_factory=OwnTruth)  # the own questions' planted answers


@dataclass(frozen=True)
class _Props:
    """Codes of the fixed props and element strings."""

    start: np.ndarray  # by 2·phone + english
    granted: int
    declined: int
    reason: np.ndarray  # by outcome reason (completed, idle_timeout, abandoned)
    back: int


def _props(v: Vocab) -> _Props:
    start = {
        (dev, loc): v.code(json.dumps({"locale": loc, "entry": "qr" if dev else "kiosk"}))
        for dev in (False, True)
        for loc in ("de", "en")
    }
    granted, declined = v.code('{"granted": true}'), v.code('{"granted": false}')
    reason = [v.code(json.dumps({"reason": r})) for r in ("completed", "idle_timeout",
                                                           "abandoned")]  # fmt: skip
    back = v.code("back")
    order = ((False, "de"), (False, "en"), (True, "de"), (True, "en"))
    return _Props(np.array([start[k] for k in order], np.int32), granted, declined,
                  np.asarray(reason, np.int32), back)  # fmt: skip


def _assign(design: PilotDesign, session_ids: pa.Array) -> np.ndarray:
    """unit=session: the experiment's hash assignment (as the runtime does it)."""
    chosen = assign_many(design.experiment_id or "", session_ids.to_pylist(), design.allocation)
    lookup = {a: i for i, a in enumerate(design.arms)}
    return np.array([lookup[c] for c in chosen], dtype=np.int64)


def _draw_sessions(ctx: ChunkContext, rng: np.random.Generator, n: int) -> ChunkSessions:
    """Who the chunk's sessions are and when they start (Berlin opening hours)."""
    stores, period = ctx.stores, ctx.period
    ids = uuid4_strings(rng, n)
    store = rng.choice(len(stores.ids), size=n, p=stores.weights)
    arm = stores.arm[store] if ctx.design.unit == "store" else _assign(ctx.design, ids)
    phone = rng.random(n) < stores.phone[store]
    english = rng.random(n) < EN_SHARE
    day = rng.choice(len(period.days), size=n, p=period.weights)
    hour = np.where(rng.random(n) < 0.45, rng.normal(13.0, 1.3, n), rng.normal(17.0, 1.3, n))
    hour = np.clip(hour, OPEN_HOUR, CLOSE_HOUR - 0.4)
    offset = period.offset_ms[day]
    clock = period.start_ms[day] + hour * 3_600_000 - offset  # UTC ms
    return ChunkSessions(ids, store, arm, phone, english, offset, clock)


def chunk_table(ctx: ChunkContext, chunk: int, n: int) -> pa.Table:
    """The events of ``n`` sessions, chunk number ``chunk`` (its own random streams)."""
    design = ctx.design
    rng = np.random.default_rng(np.random.SeedSequence([ctx.seed, 1, chunk]))
    sessions = _draw_sessions(ctx, rng, n)
    buf = Buffer()
    props = _props(ctx.vocab)
    for a, name in enumerate(design.arms):
        idx = np.flatnonzero(sessions.arm == a)
        if len(idx) == 0:
            continue
        arm = design.arms[name]
        mix = ctx.stores.mix(sessions.store[idx], sessions.phone[idx])
        nz = draw_noise(arm, ctx.seed, (2, chunk, a), len(idx))
        out = outcomes(arm, ctx.cal.params[name], ctx.cal.base_p[name], mix, nz)
        # the prototype's own questions draw from a stream of their own, so adding one
        # leaves every other answer of the pilot as it was
        own_rng = np.random.default_rng(np.random.SeedSequence([ctx.seed, 3, chunk, a]))
        walk = _ArmWalk(buf, rng, ctx, props, arm, ctx.codes[name], out, idx,
                        sessions.clock[idx].copy(), own_rng)  # fmt: skip
        walk.emit(sessions.phone[idx], sessions.english[idx])
    labels = Labels(
        design.experiment_id,
        design.prototype_id,
        list(design.arms),
        np.array([arm.version for arm in design.arms.values()], np.int32),
        ctx.stores.ids,
    )
    cols = buf.arrays()
    goals = next(iter(design.arms.values())).goals
    if goals:  # props.goals on the events that reach a goal, as the runtime writes them
        masks = mark_goals(cols, goals, ctx.vocab)
        tally_goals(cols, masks, sessions.arm, list(design.arms), ctx.tally)
    return events_table(cols, sessions, labels, ctx.vocab, lambda m: uuid4_strings(rng, m))


@dataclass(frozen=True)
class _ArmWalk:
    """The sessions of one variant in one chunk, walked from start to end.

    ``t`` is each session's clock (UTC ms); the steps move it forward in place.
    """

    buf: Buffer
    rng: np.random.Generator
    ctx: ChunkContext
    props: _Props
    arm: Arm
    codes: ArmCodes
    out: Outcomes
    idx: np.ndarray  # the sessions' positions in the chunk
    t: np.ndarray
    own_rng: np.random.Generator | None = None  # the prototype's own questions (sample_data.own)

    def emit(self, phone: np.ndarray, english: np.ndarray) -> None:
        """Every event of these sessions, in the order the runtime writes them."""
        self._start(phone, english)
        for ti in range(len(self.arm.tasks)):
            on = np.flatnonzero(self.out.reached[:, ti])
            if len(on):
                self._task(ti, on)
        self._end_answers()
        if self.arm.own and self.own_rng is not None:
            OwnAnswers(self, self.own_rng, self.ctx.own_truth).emit(english)
        self._comments(english)
        self._session_end()
        if self.arm.problem is not None:
            self._count_problem()

    def _count_problem(self) -> None:
        """Add what the planted problem did in these sessions to ``ctx.tally``."""
        out, problem = self.out, self.arm.problem
        kp = np.array(problem.steps)
        reached = out.reached & (out.steps >= kp[None, :]) & (kp[None, :] >= 0)
        counts = self.ctx.tally.setdefault(self.arm.name, {})
        for key, n in (
            ("task_visits", reached.sum()),
            ("left_there", out.quit.sum()),
            ("misclicks", out.hot.sum()),
            ("comments", out.theme_comment.sum()),
        ):
            counts[key] = counts.get(key, 0) + int(n)

    def _start(self, phone: np.ndarray, english: np.ndarray) -> None:
        buf, idx, t, consent = self.buf, self.idx, self.t, self.out.consent
        starts = self.props.start[phone * 2 + english]
        if self.arm.personas or self.arm.context:
            starts = self._profile_starts(phone, english)
        buf.add(idx, "session_start", t.copy(), props=starts)
        t += self.rng.uniform(2_000, 6_000, len(idx))
        granted = np.where(consent, self.props.granted, self.props.declined).astype(np.int32)
        buf.add(idx, "consent", t.copy(), value=consent.astype(float), props=granted)

    def _profile_starts(self, phone: np.ndarray, english: np.ndarray) -> np.ndarray:
        """session_start props with a persona (or none) and every context variable's value
        drawn uniformly, written as the runtime writes them (``Profile.props``)."""
        arm, n = self.arm, len(self.idx)
        who = self.rng.integers(0, len(arm.personas) + 1, n)  # 0: anonymous
        values = [self.rng.integers(0, len(vals), n) for _, vals in arm.context]
        key = np.stack([phone.astype(np.int64), english.astype(np.int64), who, *values], axis=1)
        combos, inverse = np.unique(key, axis=0, return_inverse=True)
        codes = []
        for row in combos.tolist():
            props = {"locale": "en" if row[1] else "de", "entry": "qr" if row[0] else "kiosk"}
            if row[2]:
                props["persona"] = arm.personas[row[2] - 1]
            if arm.context:
                props["context"] = {k: vals[row[3 + i]] for i, (k, vals) in enumerate(arm.context)}
            codes.append(self.ctx.vocab.code(json.dumps(props)))
        return np.asarray(codes, np.int32)[inverse.ravel()]

    def _task(self, ti: int, on: np.ndarray) -> None:
        """Task ``ti`` for the sessions ``on`` (positions in ``idx``) that reached it."""
        out, t = self.out, self.t
        t[on] += self.rng.uniform(3_000, 8_000, len(on))
        clock = _TaskClock(self.rng, t[on].copy(), out.duration[on, ti] * 1000,
                           out.n_events[on, ti].astype(float), np.zeros(len(on)))  # fmt: skip
        task_code, path = self.codes.task[ti], self.codes.paths[ti]
        sess = self.idx[on]
        self.buf.add(sess, "task_start", clock.t0.copy(), screen=self.codes.start[ti],
                     task=task_code)  # fmt: skip
        everyone = np.ones(len(on), bool)
        self.buf.add(sess, "screen_view", clock.at(everyone), screen=path[0], task=task_code)
        steps = out.steps[on, ti]
        for k in range(len(path)):
            here = steps >= k
            if not here.any():
                break
            self._screen(_Step(ti, k, on, sess, here, steps), clock)
        t_end = clock.t0 + clock.dur
        self._task_end(ti, on, steps, clock, t_end)
        t[on] = t_end
        self._task_answers(ti, on)

    def _screen(self, step: _Step, clock: _TaskClock) -> None:
        """On screen ``k`` of the path: misclicks, a detour and back, the tap forward."""
        ti, k, sess, here = step.ti, step.k, step.sess, step.here
        out, buf, rng = self.out, self.buf, self.rng
        task_code, path = self.codes.task[ti], self.codes.paths[ti]
        screen = path[k]
        mis_k = out.mis[step.on, ti, k] if k < out.mis.shape[2] else np.zeros(len(step.on))
        problem = self.arm.problem
        if problem is not None and problem.steps[ti] == k:
            self._hot_misclicks(step, clock, problem)
        for r in range(int(mis_k.max(initial=0))):
            mm = here & (mis_k > r)
            c = int(mm.sum())
            if c:
                buf.add(sess[mm], "misclick", clock.at(mm), screen=screen, task=task_code,
                        x=rng.uniform(0.02, 0.98, c), y=rng.uniform(0.02, 0.98, c))  # fmt: skip
        dd = here & out.detour[step.on, ti, k]
        if dd.any():
            self._detour(step, dd, clock)
        fw = here & (step.steps > k)
        c = int(fw.sum())
        if c:
            el = self.codes.forward[ti][k]
            x, y = self.ctx.positions.xy(np.full(c, el, np.int32), rng)
            buf.add(sess[fw], "tap", clock.at(fw), screen=screen, element=el, task=task_code,
                    x=x, y=y)  # fmt: skip
            buf.add(sess[fw], "screen_view", clock.at(fw), screen=path[k + 1], task=task_code)

    def _hot_misclicks(self, step: _Step, clock: _TaskClock, problem: ArmProblem) -> None:
        """The planted misclicks: a cluster around the problem's (x, y), in the same frame as
        the runtime's (shares of the viewport, 0..1)."""
        hot = self.out.hot[step.on, step.ti]
        for r in range(int(hot.max(initial=0))):
            mm = step.here & (hot > r)
            c = int(mm.sum())
            if c:
                x = np.clip(self.rng.normal(problem.x, problem.spread, c), 0, 1)
                y = np.clip(self.rng.normal(problem.y, problem.spread, c), 0, 1)
                self.buf.add(step.sess[mm], "misclick", clock.at(mm), screen=self.codes.paths[
                    step.ti][step.k], task=self.codes.task[step.ti], x=x, y=y)  # fmt: skip

    def _detour(self, step: _Step, dd: np.ndarray, clock: _TaskClock) -> None:
        """A tap to a screen off the path and the way back."""
        ti, k, buf, rng, positions = step.ti, step.k, self.buf, self.rng, self.ctx.positions
        task_code, screen, back = self.codes.task[ti], self.codes.paths[ti][k], self.props.back
        sess, c = step.sess[dd], int(dd.sum())
        alt_el, alt_tg = self.codes.alt_el[ti][k], self.codes.alt_tg[ti][k]
        pick = rng.integers(0, len(alt_el), c)
        el, tg = alt_el[pick], alt_tg[pick]
        x, y = positions.xy(el, rng)
        buf.add(sess, "tap", clock.at(dd), screen=screen, element=el, task=task_code, x=x, y=y)
        buf.add(sess, "screen_view", clock.at(dd), screen=tg, task=task_code)
        bx, by = positions.xy(np.full(c, back, np.int32), rng)
        buf.add(sess, "tap", clock.at(dd), screen=tg, element=back, task=task_code, x=bx, y=by)
        buf.add(sess, "screen_view", clock.at(dd), screen=screen, task=task_code)

    def _task_end(self, ti, on, steps, clock: _TaskClock, t_end: np.ndarray) -> None:
        kind = self.out.outcome[on, ti]
        end_screen = np.asarray(self.codes.paths[ti], np.int32)[steps]
        sess, seconds, task = self.idx[on], np.round(clock.dur / 1000, 3), self.codes.task[ti]
        for code, type_ in ((1, "task_success"), (2, "task_fail"), (3, "task_abandon")):
            mk = kind == code
            if mk.any():
                self.buf.add(sess[mk], type_, t_end[mk], screen=end_screen[mk], task=task,
                             value=seconds[mk])  # fmt: skip

    def _task_answers(self, ti: int, on: np.ndarray) -> None:
        t, v = self.t, self.ctx.vocab
        for task_index, q, answered, value in self.out.task_answers:
            if task_index != ti:
                continue
            aa = np.flatnonzero(answered[on])
            if len(aa):
                pos = on[aa]
                t[pos] += self.rng.uniform(3_000, 8_000, len(aa))
                self.buf.add(self.idx[pos], "answer", t[pos].copy(), task=self.codes.task[ti],
                             question=v.code(q), value=value[pos])  # fmt: skip

    def _end_answers(self) -> None:
        t = self.t
        for q in self.arm.end_questions:
            answered, value = self.out.answers[q]
            aa = np.flatnonzero(answered)
            if len(aa):
                t[aa] += self.rng.uniform(*item_model(q).answer_ms, len(aa))
                self.buf.add(self.idx[aa], "answer", t[aa].copy(), question=self.ctx.vocab.code(q),
                             value=value[aa])  # fmt: skip

    def _comments(self, english: np.ndarray) -> None:
        cc = np.flatnonzero(self.out.comment)
        if len(cc) == 0:
            return
        t = self.t
        t[cc] += self.rng.uniform(15_000, 45_000, len(cc))
        z = self.out.z[cc]
        mood = np.where(z < -0.5, "negative", np.where(z > 0.5, "positive", "neutral"))
        text = np.empty(len(cc), np.int32)
        u = self.out.comment_u[cc]
        for (loc, md), pool in self.ctx.comment_codes.items():
            mk = (mood == md) & (english[cc] == (loc == "en"))
            if mk.any():
                text[mk] = pool[np.minimum((u[mk] * len(pool)).astype(int), len(pool) - 1)]
        theme = self.ctx.theme
        if theme is not None:
            planted = self.out.theme_comment[cc]
            for loc, pool in theme.texts.items():
                mk = planted & (english[cc] == (loc == "en"))
                text[mk] = pool[np.minimum((u[mk] * len(pool)).astype(int), len(pool) - 1)]
            counts = self.ctx.tally.setdefault("*", {})
            counts["theme_comments"] = counts.get("theme_comments", 0) + int(
                np.isin(text, theme.mentions).sum()
            )
        question = self.ctx.vocab.code(self.arm.comment)
        self.buf.add(self.idx[cc], "comment", t[cc].copy(), question=question, text=text)

    def _session_end(self) -> None:
        reason, t = self.out.reason, self.t
        gap = np.select([reason == 0, reason == 1], [1_000.0, 60_000.0], 2_000.0)
        t += gap + self.rng.uniform(0, 1_000, len(t))
        self.buf.add(self.idx, "session_end", t.copy(), props=self.props.reason[reason])


@dataclass(frozen=True)
class _Step:
    """Screen ``k`` of task ``ti``'s path for the sessions ``on`` that reached the task."""

    ti: int
    k: int
    on: np.ndarray  # positions in the arm's sessions
    sess: np.ndarray  # positions in the chunk
    here: np.ndarray  # which of them got as far as screen k
    steps: np.ndarray  # screens walked per session


@dataclass(frozen=True)
class _TaskClock:
    """Spreads a task's events over its duration: the j-th of ``nev`` at about ``j/nev``."""

    rng: np.random.Generator
    t0: np.ndarray
    dur: np.ndarray  # ms
    nev: np.ndarray
    j: np.ndarray  # events so far (counted in place)

    def at(self, mask: np.ndarray) -> np.ndarray:
        """Times of the next event of the sessions in ``mask``."""
        self.j[mask] += 1
        jit = self.rng.random(int(mask.sum())) * 0.4
        return self.t0[mask] + self.dur[mask] * (self.j[mask] - jit) / self.nev[mask]
