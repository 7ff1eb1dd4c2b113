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
    uuid7_strings,
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
    """Codes of the fixed props and element strings, as the runtime writes them
    (``prototypes.runtime.session``): session_start has the locale, consent none."""

    start: np.ndarray  # by english
    reason: np.ndarray  # by outcome reason (completed, idle_timeout, abandoned)
    back: int


def _props(v: Vocab) -> _Props:
    start = [v.code(json.dumps({"locale": loc})) for loc in ("de", "en")]
    reason = [v.code(json.dumps({"reason": r})) for r in ("completed", "idle_timeout",
                                                           "abandoned")]  # fmt: skip
    return _Props(np.asarray(start, np.int32), np.asarray(reason, np.int32), v.code("back"))


def _target(v: Vocab, screen: np.ndarray | int) -> np.ndarray | int:
    """The props of a tap that goes to ``screen`` (codes): ``{"target": screen}``."""
    if isinstance(screen, np.ndarray):
        kinds, back = np.unique(screen, return_inverse=True)
        return np.array([_target(v, int(c)) for c in kinds], np.int32)[back]
    return v.code(json.dumps({"target": v.items[screen]}))


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
                        sessions.clock[idx].copy(), np.full(len(idx), -1, np.int32),
                        own_rng)  # fmt: skip
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
    return events_table(cols, sessions, labels, ctx.vocab, lambda ms: uuid7_strings(rng, ms))


@dataclass(frozen=True)
class _ArmWalk:
    """The sessions of one variant in one chunk, walked from start to end.

    ``t`` is each session's clock (UTC ms); the steps move it forward in place. ``here`` is
    the prototype screen each session shows (code, -1 before the first task): the runtime
    writes it on answers, comments and an idle ``session_end``.
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
    here: np.ndarray
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
        starts = self.props.start[english.astype(int)]
        if self.arm.personas or self.arm.context:
            starts = self._profile_starts(english)
        buf.add(idx, "session_start", t.copy(), props=starts)
        t += self.rng.uniform(2_000, 6_000, len(idx))
        buf.add(idx, "consent", t.copy(), value=consent.astype(float))

    def _profile_starts(self, english: np.ndarray) -> np.ndarray:
        """session_start props with a persona (or none) and every context variable's value
        drawn uniformly, written as the runtime writes them (the locale, ``Profile.props``)."""
        arm, n = self.arm, len(self.idx)
        who = self.rng.integers(0, len(arm.personas) + 1, n)  # 0: anonymous
        values = [self.rng.integers(0, len(vals), n) for _, vals in arm.context]
        key = np.stack([english.astype(np.int64), who, *values], axis=1)
        combos, inverse = np.unique(key, axis=0, return_inverse=True)
        codes = []
        for row in combos.tolist():
            props = {"locale": "en" if row[0] else "de"}
            if row[1]:
                props["persona"] = arm.personas[row[1] - 1]
            if arm.context:
                props["context"] = {k: vals[row[2 + i]] for i, (k, vals) in enumerate(arm.context)}
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
        self.buf.add(sess, "screen_view", clock.at(everyone), screen=path[0])
        steps = out.steps[on, ti]
        detours = np.zeros((len(on), len(path)), np.int64)  # 1 + the detour taken, per screen
        for k in range(len(path)):
            here = steps >= k
            if not here.any():
                break
            self._screen(_Step(ti, k, on, sess, here, steps, detours), clock)
        t_end = clock.t0 + clock.dur
        self.here[on] = np.asarray(path, np.int32)[steps]
        self._task_end(ti, on, steps, detours, t_end, np.round(clock.dur / 1000, 3))
        t[on] = t_end
        self._task_answers(ti, on)

    def _screen(self, step: _Step, clock: _TaskClock) -> None:
        """On screen ``k`` of the path: misclicks, a detour and back, the tap forward."""
        ti, k, sess, here = step.ti, step.k, step.sess, step.here
        out, buf, rng = self.out, self.buf, self.rng
        path = self.codes.paths[ti]
        screen = path[k]
        mis_k = out.mis[step.on, ti, k] if k < out.mis.shape[2] else np.zeros(len(step.on))
        problem = self.arm.problem
        if problem is not None and problem.steps[ti] == k:
            self._hot_misclicks(step, clock, problem)
        for r in range(int(mis_k.max(initial=0))):
            mm = here & (mis_k > r)
            c = int(mm.sum())
            if c:
                buf.add(sess[mm], "misclick", clock.at(mm), screen=screen,
                        x=rng.uniform(0.02, 0.98, c), y=rng.uniform(0.02, 0.98, c))  # fmt: skip
        dd = here & out.detour[step.on, ti, k]
        if dd.any():
            self._detour(step, dd, clock)
        fw = here & (step.steps > k)
        c = int(fw.sum())
        if c:
            el = self.codes.forward[ti][k]
            x, y = self.ctx.positions.xy(np.full(c, el, np.int32), rng)
            buf.add(sess[fw], "tap", clock.at(fw), screen=screen, element=el, x=x, y=y,
                    props=_target(self.ctx.vocab, path[k + 1]))  # fmt: skip
            buf.add(sess[fw], "screen_view", clock.at(fw), screen=path[k + 1])

    def _hot_misclicks(self, step: _Step, clock: _TaskClock, problem: ArmProblem) -> None:
        """The planted misclicks: a cluster around the problem's (x, y), in the same frame as
        the runtime's (the page frame, 0..1)."""
        hot = self.out.hot[step.on, step.ti]
        for r in range(int(hot.max(initial=0))):
            mm = step.here & (hot > r)
            c = int(mm.sum())
            if c:
                x = np.clip(self.rng.normal(problem.x, problem.spread, c), 0, 1)
                y = np.clip(self.rng.normal(problem.y, problem.spread, c), 0, 1)
                self.buf.add(step.sess[mm], "misclick", clock.at(mm),
                             screen=self.codes.paths[step.ti][step.k], x=x, y=y)  # fmt: skip

    def _detour(self, step: _Step, dd: np.ndarray, clock: _TaskClock) -> None:
        """A tap to a screen off the path and the way back."""
        ti, k, buf, rng, positions = step.ti, step.k, self.buf, self.rng, self.ctx.positions
        screen, back, vocab = self.codes.paths[ti][k], self.props.back, self.ctx.vocab
        sess, c = step.sess[dd], int(dd.sum())
        alt_el, alt_tg = self.codes.alt_el[ti][k], self.codes.alt_tg[ti][k]
        pick = rng.integers(0, len(alt_el), c)
        step.detours[dd, k] = pick + 1
        el, tg = alt_el[pick], alt_tg[pick]
        x, y = positions.xy(el, rng)
        buf.add(sess, "tap", clock.at(dd), screen=screen, element=el, x=x, y=y,
                props=_target(vocab, tg))  # fmt: skip
        buf.add(sess, "screen_view", clock.at(dd), screen=tg)
        bx, by = positions.xy(np.full(c, back, np.int32), rng)
        buf.add(sess, "tap", clock.at(dd), screen=tg, element=back, x=bx, y=by,
                props=_target(vocab, screen))  # fmt: skip
        buf.add(sess, "screen_view", clock.at(dd), screen=screen)

    def _task_end(self, ti, on, steps, detours, t_end: np.ndarray, seconds: np.ndarray) -> None:
        """The task's end event with the runtime's props: the path walked and the expected one;
        a walk-away (the session ends here) is the runtime's idle time-out (``reason: idle``)."""
        kind = self.out.outcome[on, ti]
        end_screen = np.asarray(self.codes.paths[ti], np.int32)[steps]
        props = self._path_props(ti, steps, detours, self.out.walked[on, ti])
        sess, task = self.idx[on], self.codes.task[ti]
        for code, type_ in ((1, "task_success"), (2, "task_fail"), (3, "task_abandon")):
            mk = kind == code
            if mk.any():
                self.buf.add(sess[mk], type_, t_end[mk], screen=end_screen[mk], task=task,
                             value=seconds[mk], props=props[mk])  # fmt: skip

    def _path_props(self, ti, steps, detours, idle) -> np.ndarray:
        """Props codes ``{"path": [...], "expected_path": [...]}`` (+ ``reason``) per session:
        each distinct walk (screens reached, detours taken, idle) is spelled out once."""
        vocab, path = self.ctx.vocab, self.codes.paths[ti]
        radix = 1 + max((len(a) for a in self.codes.alt_tg[ti]), default=0)
        key = steps.astype(np.int64) * 2 + idle
        for k in range(len(path)):
            key = key * radix + detours[:, k]
        kinds, first, back = np.unique(key, return_index=True, return_inverse=True)
        expected = [vocab.items[c] for c in path]
        codes = np.empty(len(kinds), np.int32)
        for j, i in enumerate(first):  # one per distinct walk, not per session
            walked: list[str] = []
            for k in range(int(steps[i]) + 1):
                walked.append(vocab.items[path[k]])
                if detours[i, k]:
                    target = self.codes.alt_tg[ti][k][detours[i, k] - 1]
                    walked += [vocab.items[target], vocab.items[path[k]]]
            props = {"path": walked, "expected_path": expected}
            codes[j] = vocab.code(json.dumps({**props, "reason": "idle"} if idle[i] else props))
        return codes[back]

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
                             question=v.code(q), value=value[pos],
                             screen=self.here[pos])  # fmt: skip

    def _end_answers(self) -> None:
        t = self.t
        for q in self.arm.end_questions:
            answered, value = self.out.answers[q]
            aa = np.flatnonzero(answered)
            if len(aa):
                t[aa] += self.rng.uniform(*item_model(q).answer_ms, len(aa))
                self.buf.add(self.idx[aa], "answer", t[aa].copy(), question=self.ctx.vocab.code(q),
                             value=value[aa], screen=self.here[aa])  # fmt: skip

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
        self.buf.add(self.idx[cc], "comment", t[cc].copy(), question=question, text=text,
                     screen=self.here[cc])  # fmt: skip

    def _session_end(self) -> None:
        """As the runtime ends a session: completed (on the thanks page, no screen), an idle
        time-out (on the screen shown), declined consent (abandoned); a phone page closed
        after consent writes nothing more."""
        reason, t = self.out.reason, self.t
        gap = np.select([reason == 0, reason == 1], [1_000.0, 60_000.0], 2_000.0)
        t += gap + self.rng.uniform(0, 1_000, len(t))
        ends = (reason != 2) | ~self.out.consent
        screen = np.where(reason == 1, self.here, -1).astype(np.int32)
        self.buf.add(self.idx[ends], "session_end", t[ends].copy(), screen=screen[ends],
                     props=self.props.reason[reason[ends]])  # fmt: skip


@dataclass(frozen=True)
class _Step:
    """Screen ``k`` of task ``ti``'s path for the sessions ``on`` that reached the task."""

    ti: int
    k: int
    on: np.ndarray  # positions in the arm's sessions
    sess: np.ndarray  # positions in the chunk
    here: np.ndarray  # which of them got as far as screen k
    steps: np.ndarray  # screens walked per session
    detours: np.ndarray  # session × screen: 1 + the detour taken there (0: none), filled in


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
