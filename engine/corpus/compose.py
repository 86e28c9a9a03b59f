"""The composer: a clip's spans and hit points in, a SymbolicScore (drums, bass, harmony, melody) out.

Why a composer and not a synth: the LM learns what music is from these notes, so they must be music
— a steady pulse, grooves that vary, progressions with cadences, a bass that leads into the next
chord, melodies made of motifs that come back, 4- and 8-bar phrases, a drum fill before every new
section — and they must answer the pictures: a strong kick + crash on every cut and visual event,
a new section (and style span) where the world changes. Everything is drawn from the style tables
in `styles.py`, played in the span's mood (`moods.py`: mode and harmony through
`mood_styles.py`; melody density, dynamics and ostinato here). Randomness comes only from the
`rng` passed in and, for a mood's own choices, from a generator seeded by the span itself, so a
clip is a pure function of its seed and a neutral span is note for note what it was before moods.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine.corpus.meter import PHRASE_BARS, SECTION_BARS, Span
from engine.corpus.mood_styles import mooded_style
from engine.corpus.moods import MOOD_TABLE, NEUTRAL, mood
from engine.corpus.styles import SCALES, ChordSpec, Style
from engine.symbolic.score import CHORD_QUALITIES, MAX_DRUM_PIECES, Chord, DrumHit, Note, SymbolicScore

# Which pieces survive when more than MAX_DRUM_PIECES fall on one frame (most important first).
PIECE_PRIORITY = ("crash", "kick", "snare", "tom_low", "tom_high", "hat_open", "ride", "hat_closed")
HIT_PIECES = ("kick", "crash")  # what a cut or visual event gets, at the strong accent
ACCENT = {"o": 0, "x": 1, "X": 2}


@dataclass(frozen=True)
class SectionPlan:
    """What one 8-bar section of a span plays: its progression, comp, groove, bass line, motifs."""

    progression: tuple[ChordSpec, ...]
    cadence: tuple[ChordSpec, ...]
    comp: str
    groove: int
    bass: str
    motif_rhythm: str
    motif_steps: tuple[int, ...]
    answer_rhythm: str
    answer_steps: tuple[int, ...]


def _motif_steps(rhythm: str, leap: int, rng: np.random.Generator) -> tuple[int, ...]:
    """Scale-step moves for each onset of a rhythm: mostly steps, some leaps, a turn near the end."""
    n = sum(c in "xX" for c in rhythm)
    moves = rng.choice([-1, 1, -1, 1, -2, 2, 0, -leap, leap], size=n)
    if n > 2:
        moves[-1] = -int(np.sign(moves[:-1].sum()) or 1)  # lean back towards where it began
    return tuple(int(m) for m in moves)


def _plan_section(
    spec: Style, index: int, previous: SectionPlan | None, rng: np.random.Generator
) -> SectionPlan:
    def pick(options, avoid=None):
        choices = [o for o in options if o != avoid] or list(options)
        return choices[int(rng.integers(len(choices)))]

    rhythm = pick(spec.melody_rhythms)
    answer = pick(spec.melody_rhythms, rhythm)
    return SectionPlan(
        progression=pick(spec.progressions, previous and previous.progression),
        cadence=pick(spec.cadences),
        comp=pick(spec.comp, previous and previous.comp),
        groove=int(rng.integers(len(spec.grooves)))
        if previous is None
        else (previous.groove + 1) % len(spec.grooves),
        bass=pick(spec.bass, previous and previous.bass),
        motif_rhythm=rhythm,
        motif_steps=_motif_steps(rhythm, spec.melody_leap, rng),
        answer_rhythm=answer,
        answer_steps=_motif_steps(answer, spec.melody_leap, rng),
    )


def _chord_at(spec: Style, plan: SectionPlan, bar: int, step: int) -> ChordSpec:
    """The chord sounding at `step` of form bar `bar`: the progression, then a 2-bar cadence."""
    pos = bar % SECTION_BARS + step / spec.steps_per_bar
    if pos >= SECTION_BARS - 2:
        per = 2 / len(plan.cadence)
        return plan.cadence[min(len(plan.cadence) - 1, int((pos - (SECTION_BARS - 2)) / per))]
    return plan.progression[int(pos / spec.chord_bars) % len(plan.progression)]


def _near(pc: int, target: float, lo: int, hi: int) -> int:
    """The MIDI pitch of pitch class `pc` inside [lo, hi] nearest to `target`."""
    options = [p for p in range(lo, hi + 1) if p % 12 == pc % 12]
    return min(options, key=lambda p: (abs(p - target), p))


class _SpanWriter:
    """Writes one span's events into shared lists; keeps the voice-leading state between bars."""

    def __init__(self, span: Span, last_span: bool, rng: np.random.Generator):
        self.span, self.rng, self.last_span = span, rng, last_span
        self.spec, self.mood = mooded_style(span.spec, span.mood), mood(span.mood)
        self.scale = SCALES[self.spec.mode]
        self.plans: dict[int, SectionPlan] = {}
        lo, hi = self.spec.bass_register
        self.bass_pitch = (lo + hi) / 2
        mlo, mhi = self.spec.melody_register
        self.degree = self._degree_near((mlo + mhi) / 2)
        self.drums: dict[int, dict[str, int]] = {}
        self.bass: list[Note] = []
        self.harmony: list[Chord] = []
        self.melody: list[Note] = []
        self.fills: list[tuple[int, int]] = []
        self.section_starts: list[int] = []
        self.phrase_starts: list[int] = []
        self.cadences: list[int] = []

    # --- helpers ---------------------------------------------------------------------------
    def plan(self, bar: int) -> SectionPlan:
        index = bar // SECTION_BARS
        if index not in self.plans:
            self.plans[index] = _plan_section(self.spec, index, self.plans.get(index - 1), self.rng)
        return self.plans[index]

    def frame(self, bar: int, step: int) -> int:
        return self.span.step_frame(bar * self.spec.steps_per_bar + step)

    def inside(self, frame: int) -> bool:
        return self.span.start_frame <= frame < self.span.end_frame

    def _pitch_of_degree(self, degree: int) -> int:
        return 12 * (degree // 7) + self.scale[degree % 7] + self.span.tonic

    def _degree_near(self, pitch: float) -> int:
        return min(range(0, 7 * 11), key=lambda d: abs(self._pitch_of_degree(d) - pitch))

    def _chord_pcs(self, chord: ChordSpec) -> list[int]:
        root, quality = chord
        return [(self.span.tonic + root + i) % 12 for i in CHORD_QUALITIES[quality]]

    def _note(self, into: list[Note], start: int, end: int, pitch: int, accent: int) -> None:
        end = min(end, self.span.end_frame)
        if self.inside(start) and end > start:
            into.append(Note(start, end, int(pitch), accent))

    def _hit(self, frame: int, piece: str, accent: int) -> None:
        if self.inside(frame):
            slot = self.drums.setdefault(frame, {})
            slot[piece] = max(accent, slot.get(piece, -1))

    def is_last_bar(self, bar: int) -> bool:
        """Bar before a new section: the 8th of a section, or the last before a style change."""
        next_start = self.span.bar_frame(bar + 1)
        return (bar + 1) % SECTION_BARS == 0 or (not self.last_span and next_start >= self.span.end_frame - 1)

    # --- the four streams, one bar at a time --------------------------------------------------
    def drums_bar(self, bar: int) -> None:
        spec, plan = self.spec, self.plan(bar)
        groove = dict(spec.grooves[plan.groove])
        if bar % 2 == 1 and self.rng.random() < 0.35:  # variation: borrow another groove's kick line
            other = spec.grooves[int(self.rng.integers(len(spec.grooves)))]
            if "kick" in other:
                groove["kick"] = other["kick"]
        fill_from = spec.steps_per_bar - spec.fill_beats * spec.steps_per_beat
        fill = self.is_last_bar(bar)
        if fill and self.inside(self.frame(bar, fill_from)):
            self.fills.append((self.frame(bar, fill_from), min(self.frame(bar + 1, 0), self.span.end_frame)))
        for piece, pattern in groove.items():
            for step, c in enumerate(pattern):
                if c in ACCENT and not (fill and step >= fill_from):
                    if c == "o" and self.rng.random() < 0.15:  # drop a ghost note now and then
                        continue
                    self._hit(self.frame(bar, step), piece, ACCENT[c])
        if fill:
            for piece, pattern in spec.fill.items():
                for k, c in enumerate(pattern):
                    if c in ACCENT:
                        self._hit(self.frame(bar, fill_from + k), piece, ACCENT[c])
        if bar % SECTION_BARS == 0:  # a new section (a world change's span starts with bar 0)
            f = self.frame(bar, 0)
            if self.inside(f):
                self.section_starts.append(f)
                self._hit(f, "crash", 2)
                self._hit(f, "kick", 2)
        if bar % PHRASE_BARS == 0 and self.inside(self.frame(bar, 0)):
            self.phrase_starts.append(self.frame(bar, 0))

    def harmony_bar(self, bar: int) -> None:
        spec, plan = self.spec, self.plan(bar)
        attacks = {s: c for s, c in enumerate(plan.comp) if c in "xX"}
        current = None
        for step in range(spec.steps_per_bar):
            chord = _chord_at(spec, plan, bar, step)
            if chord != current and step not in attacks:
                attacks[step] = "o"  # a chord change is always struck, softly if off the comp
            current = chord
        onsets = sorted(attacks)
        for i, step in enumerate(onsets):
            nxt = onsets[i + 1] if i + 1 < len(onsets) else spec.steps_per_bar
            rest = plan.comp.find(".", step + 1)
            end_step = nxt if rest == -1 or rest >= nxt or plan.comp[step] == "o" else rest
            root, quality = _chord_at(spec, plan, bar, step)
            accent = 2 if attacks[step] == "X" else (1 if step == 0 else 0)
            start, end = self.frame(bar, step), self.frame(bar, end_step)
            if self.inside(start):
                self.harmony.append(
                    Chord(
                        start, min(end, self.span.end_frame), (self.span.tonic + root) % 12, quality, accent
                    )
                )

    def bass_bar(self, bar: int) -> None:
        spec, plan = self.spec, self.plan(bar)
        lo, hi = spec.bass_register
        pattern = plan.bass
        for step in (s for s, c in enumerate(pattern) if c not in "-."):
            end_step = step + 1
            while end_step < len(pattern) and pattern[end_step] == "-":
                end_step += 1
            chord = _chord_at(spec, plan, bar, step)
            next_chord = _chord_at(spec, self.plan(bar + 1), bar + 1, 0)
            pcs = self._chord_pcs(chord)
            root_pitch = _near(pcs[0], self.bass_pitch, lo, hi)
            next_root = _near(self._chord_pcs(next_chord)[0], root_pitch, lo, hi)
            role = pattern[step]
            if role == "R":
                pitch = root_pitch
            elif role in "35":
                interval = CHORD_QUALITIES[chord[1]][1 if role == "3" else 2]
                pitch = root_pitch + interval if root_pitch + interval <= hi else root_pitch + interval - 12
            elif role == "8":
                pitch = root_pitch + 12 if root_pitch + 12 <= hi else root_pitch
            elif role == "A":  # chromatic approach into the next bar's root, from below or above
                pitch = next_root - 1 if self.rng.random() < 0.65 or next_root + 1 > hi else next_root + 1
            else:  # "P": a scale tone between this root and the next
                pitch = self._passing(root_pitch, next_root)
            pitch = min(hi, max(lo, pitch))
            self._note(
                self.bass, self.frame(bar, step), self.frame(bar, end_step), pitch, 1 if step == 0 else 0
            )
            self.bass_pitch = pitch

    def _passing(self, a: int, b: int) -> int:
        in_scale = [p for p in range(min(a, b) + 1, max(a, b)) if (p - self.span.tonic) % 12 in self.scale]
        if in_scale:
            return in_scale[len(in_scale) // 2]
        up = a + 2
        return up if (up - self.span.tonic) % 12 in self.scale else a + 1

    def melody_bar(self, bar: int) -> None:
        spec, plan = self.spec, self.plan(bar)
        pos = bar % SECTION_BARS
        if spec.arpeggio:
            self._arpeggio_bar(bar, plan)
            return
        ostinato = self.mood.ostinato  # the motif's rhythm every bar, by steps, from the same place
        # a phrase ends on a cadence; an ostinato runs on to the section's end
        cadence = pos == SECTION_BARS - 1 if ostinato else pos % PHRASE_BARS == PHRASE_BARS - 1
        rhythm, steps = plan.motif_rhythm, plan.motif_steps
        if ostinato:
            steps = tuple(max(-1, min(1, m)) for m in steps)
        elif pos == 6:  # the second phrase answers with the other motif before its cadence
            rhythm, steps = plan.answer_rhythm, plan.answer_steps
        if pos in (1, 5) and not ostinato:  # the motif again, a chord tone higher: repetition with variation
            self.degree += 2
        if pos in (0, 4) or ostinato:  # phrase start: back to the register's middle, near the chord's root
            mlo, mhi = spec.melody_register
            root_pc = self._chord_pcs(_chord_at(spec, plan, bar, 0))[0]
            self.degree = self._degree_near(_near(root_pc, (mlo + mhi) / 2, mlo, mhi))
        if cadence:  # half the motif, then a long note on a chord tone (the tonic at the section end)
            half = spec.steps_per_bar // 2
            rhythm = rhythm[:half] + "x" + "-" * (spec.steps_per_bar - half - 1)
            steps = steps[: sum(c in "xX" for c in rhythm[:half])] + (0,)
        onsets = [s for s, c in enumerate(rhythm) if c in "xX"]
        for i, step in enumerate(onsets):
            end_step = step + 1
            while end_step < len(rhythm) and rhythm[end_step] == "-":
                end_step += 1
            previous = self._pitch_of_degree(self.degree)
            self.degree += steps[i] if i < len(steps) else 0
            chord = _chord_at(spec, plan, bar, step)
            pitch = self._pitch_of_degree(self.degree)
            last = cadence and i == len(onsets) - 1
            if last:
                target_pc = self.span.tonic if pos == SECTION_BARS - 1 else self._chord_pcs(chord)[0]
                pitch = _near(target_pc, pitch, *spec.melody_register)
            elif step % spec.steps_per_beat == 0:  # strong positions take a chord tone
                move = steps[i] if i < len(steps) else 0
                tones = sorted(
                    {
                        _near(pc, pitch + d, *spec.melody_register)
                        for pc in self._chord_pcs(chord)
                        for d in (-6, 0, 6)
                    },
                    key=lambda p: abs(p - pitch),
                )
                moving = [p for p in tones if (p - previous) * move > 0] if move else []
                pitch = (moving or tones)[0]
            pitch = self._into_register(pitch)
            self.degree = self._degree_near(pitch)
            start, end = self.frame(bar, step), self.frame(bar, end_step)
            if spec.staccato:
                end = start + max(1, (end - start) // 2)
            accent = (
                2 if (pos % PHRASE_BARS == 0 and i == 0) else (1 if step % spec.steps_per_beat == 0 else 0)
            )
            self._note(self.melody, start, end, pitch, accent)
            if last and self.inside(start):
                self.cadences.append(start)

    def _into_register(self, pitch: int) -> int:
        lo, hi = self.spec.melody_register
        while pitch > hi:
            pitch -= 12
        while pitch < lo:
            pitch += 12
        return pitch

    def _arpeggio_bar(self, bar: int, plan: SectionPlan) -> None:
        spec = self.spec
        lo, hi = spec.melody_register
        rhythm = plan.motif_rhythm
        direction_up = bar % 2 == 0
        for step, c in enumerate(rhythm):
            if c not in "xX":
                continue
            chord = _chord_at(spec, plan, bar, step)
            pcs = self._chord_pcs(chord)
            base = _near(pcs[0], lo + 7, lo, hi - 12)
            tones = sorted(_near(pc, base + 5, base, base + 11) for pc in pcs) + [base + 12]
            k = step // max(1, spec.steps_per_beat // 2)
            idx = k % len(tones) if direction_up else (len(tones) - 1 - k % len(tones))
            end_step = step + 1
            while end_step < len(rhythm) and rhythm[end_step] == "-":
                end_step += 1
            start, end = self.frame(bar, step), self.frame(bar, end_step)
            if spec.staccato:
                end = start + max(1, (end - start) // 2)
            accent = 1 if step % spec.steps_per_beat == 0 else 0
            self._note(self.melody, start, end, self._into_register(tones[idx]), accent)
        if bar % PHRASE_BARS == PHRASE_BARS - 1 and self.inside(self.frame(bar, 0)):
            self.cadences.append(self.frame(bar, 0))

    def write(self) -> None:
        for bar in self.span.bar_range():
            self.drums_bar(bar)
            self.harmony_bar(bar)
            self.bass_bar(bar)
            self.melody_bar(bar)
        if self.mood.name != NEUTRAL:
            span = self.span
            rng = np.random.default_rng(
                [
                    span.start_frame,
                    span.end_frame,
                    span.tonic,
                    round(span.tempo_bpm * 1000),
                    list(MOOD_TABLE).index(self.mood.name),
                ]
            )
            self._density(rng)
            self._dynamics(rng)

    # --- the mood's note-level changes (its mode, register and harmony are in self.spec) ----------
    def _density(self, rng: np.random.Generator) -> None:
        """Sparser: drop melody onsets (the note before holds on, unless staccato); denser: split a
        note at its slot's middle grid step with a passing tone towards the next note. Which bar
        positions change is drawn once per section, so a motif keeps its repeats (and an ostinato
        its figure). Phrase starts and cadence notes stay."""
        p = abs(self.mood.density)
        keep = set(self.cadences)
        per_bar = self.spec.steps_per_bar
        chosen: dict[tuple[int, int], bool] = {}

        def changes(step: int) -> bool:
            key = (step // per_bar // SECTION_BARS, step % per_bar)
            if key not in chosen:
                chosen[key] = bool(rng.random() < p)
            return chosen[key]

        notes = sorted(self.melody, key=lambda n: n.start)
        out: list[Note] = []
        for i, n in enumerate(notes):
            nxt = notes[i + 1] if i + 1 < len(notes) else None
            k = round((n.start - self.span.origin_frame) / self.span.step_frames)
            if self.mood.density < 0:
                if out and n.accent < 2 and n.start not in keep and changes(k):
                    if not self.spec.staccato and out[-1].end >= n.start:
                        out[-1] = replace(out[-1], end=n.end)
                    continue
                out.append(n)
                continue
            slot_end = nxt.start if nxt is not None else n.end
            slot_steps = round((slot_end - n.start) / self.span.step_frames)
            if slot_steps < 2 or n.start in keep or not changes(k):
                out.append(n)
                continue
            mid = self.span.step_frame(k + slot_steps // 2)
            degree = self._degree_near(n.pitch)
            towards = 1 if nxt is None or nxt.pitch >= n.pitch else -1
            pitch = self._into_register(self._pitch_of_degree(degree + towards))
            end = min(slot_end, self.span.end_frame)
            if self.spec.staccato:
                end = mid + max(1, (end - mid) // 2)
            out.append(replace(n, end=min(n.end, mid)))
            if mid < end:
                out.append(Note(mid, end, pitch, 0))
        self.melody = out

    def _dynamics(self, rng: np.random.Generator) -> None:
        """Each accent (drums, bass, chords, melody) one level softer or stronger with the mood's
        chance; the hits on cuts are added later, at full strength, whatever the mood."""
        p, up = abs(self.mood.dynamics), 1 if self.mood.dynamics > 0 else -1

        def scaled(accent: int) -> int:
            return min(2, max(0, accent + up)) if rng.random() < p else accent

        for frame in sorted(self.drums):
            self.drums[frame] = {piece: scaled(a) for piece, a in self.drums[frame].items()}
        self.bass = [replace(n, accent=scaled(n.accent)) for n in self.bass]
        self.harmony = [replace(c, accent=scaled(c.accent)) for c in self.harmony]
        self.melody = [replace(n, accent=scaled(n.accent)) for n in self.melody]


def span_onsets(span: Span, rng: np.random.Generator) -> dict[str, list[int]]:
    """The frames where each stream starts a note in `span` composed alone (no hits, no other
    span): what the composer plays there, for counting its habits."""
    writer = _SpanWriter(span, last_span=False, rng=rng)
    writer.write()
    return {
        "drums": sorted(writer.drums),
        "bass": [n.start for n in writer.bass],
        "harmony": [c.start for c in writer.harmony],
        "melody": [n.start for n in writer.melody],
    }


def _drum_events(slots: dict[int, dict[str, int]]) -> list[DrumHit]:
    out = []
    for frame in sorted(slots):
        pieces = sorted(slots[frame], key=PIECE_PRIORITY.index)[:MAX_DRUM_PIECES]
        out.append(DrumHit(frame, tuple(pieces), max(slots[frame][p] for p in pieces)))
    return out


def _monophonic(notes: list[Note]) -> list[Note]:
    """Each note ends where the next begins (one voice per stream, as the tokens need)."""
    notes = sorted(notes, key=lambda n: n.start)
    out = []
    for i, n in enumerate(notes):
        end = min(n.end, notes[i + 1].start) if i + 1 < len(notes) else n.end
        if end > n.start:
            out.append(Note(n.start, end, n.pitch, n.accent))
    return out


def _chords_in_order(chords: list[Chord]) -> list[Chord]:
    chords = sorted(chords, key=lambda c: c.start)
    out = []
    for i, c in enumerate(chords):
        end = min(c.end, chords[i + 1].start) if i + 1 < len(chords) else c.end
        if end > c.start:
            out.append(Chord(c.start, end, c.root, c.quality, c.accent))
    return out


def compose(spans: list[Span], num_frames: int, hits: list[int], rng: np.random.Generator) -> SymbolicScore:
    """The score of one clip: `spans` cover [0, num_frames) in order; `hits` (50 Hz frames of cuts
    and visual events) each get a strong kick + crash, replacing the groove within one frame."""
    if not spans or spans[0].start_frame != 0 or spans[-1].end_frame != num_frames:
        raise ValueError(
            f"spans must cover frames 0..{num_frames}; got {[(s.start_frame, s.end_frame) for s in spans]}"
        )
    slots: dict[int, dict[str, int]] = {}
    bass, harmony, melody, fills = [], [], [], []
    meta: dict = {"spans": [], "section_starts": [], "phrase_starts": [], "cadences": [], "fills": []}
    for i, span in enumerate(spans):
        writer = _SpanWriter(span, last_span=i == len(spans) - 1, rng=rng)
        writer.write()
        slots.update(writer.drums)
        bass += writer.bass
        harmony += writer.harmony
        melody += writer.melody
        fills += writer.fills
        meta["spans"].append(span.to_dict())
        meta["section_starts"] += writer.section_starts
        meta["phrase_starts"] += writer.phrase_starts
        meta["cadences"] += writer.cadences
    for h in sorted(set(hits)):
        if not 0 <= h < num_frames:
            raise ValueError(f"hit frame {h} is outside the clip's {num_frames} frames")
        kept = {}
        for f in (h - 1, h, h + 1):
            kept.update({p: a for p, a in slots.pop(f, {}).items() if p in ("snare",)})
        slots[h] = {**kept, **dict.fromkeys(HIT_PIECES, 2)}
    meta["fills"] = [list(f) for f in fills]
    meta["hits"] = sorted(set(hits))
    return SymbolicScore(
        num_frames=num_frames,
        style_spans=tuple((s.start_frame, s.style) for s in spans),
        drums=tuple(_drum_events(slots)),
        bass=tuple(_monophonic(bass)),
        harmony=tuple(_chords_in_order(harmony)),
        melody=tuple(_monophonic(melody)),
        tempo_bpm=spans[0].tempo_bpm,
        meta=meta,
    )
