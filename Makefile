# Routine tasks. `make demo` and `make test` are the README's two commands.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export QT_QPA_PLATFORM ?= offscreen
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: setup demo test test-fast bench lint format clean screenshots guide-pictures

setup: $(STAMP)

# requirements.lock is the exact set seen to import audiocraft for real; audiocraft itself goes
# in with --no-deps because its own pins (torch 2.1, ...) cannot be installed beside it.
$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps audiocraft==1.3.0
	@# tinysoundfont's one requirement, pyaudio, is only for live playback and needs portaudio to build
	$(PY) -m pip install -q --no-deps tinysoundfont==0.3.7
	@# music21 (the `train` extra: real music for stage 0): its requirements are in the lock but
	@# matplotlib, which it only needs for plots we never draw
	$(PY) -m pip install -q --no-deps music21==10.5.1
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	@# the panel's preview (QtMultimedia) needs PulseAudio's client library from the system
	@ldconfig -p | grep -q libpulse.so.0 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && apt-get install -y -qq libpulse0 >/dev/null) || \
	  echo "note: install libpulse0 (Debian/Ubuntu) for the panel's audio/video preview"; }
	@# the panel's window (Qt's xcb platform) needs these X11 libraries; Qt's own error misnames them
	@ldconfig -p | grep -q libxcb-cursor.so.0 && ldconfig -p | grep -q libxcb-icccm.so.4 && \
	  ldconfig -p | grep -q libxcb-keysyms.so.1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && apt-get install -y -qq libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 >/dev/null) || \
	  echo "note: install libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 (Debian/Ubuntu) for the panel's window"; }
	@# FluidR3_GM, a fuller GM soundfont the tiny preset plays when VIDMUSICIAN_SOUNDFONT names it
	@test -f /usr/share/sounds/sf2/FluidR3_GM.sf2 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && apt-get install -y -qq fluid-soundfont-gm >/dev/null) || \
	  echo "note: install fluid-soundfont-gm (Debian/Ubuntu) for the tiny preset's fuller soundfont (VIDMUSICIAN_SOUNDFONT)"; }
	@# `make screenshots` photographs a real window; with no display it runs under Xvfb's xvfb-run
	@command -v xvfb-run >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && apt-get install -y -qq xvfb >/dev/null) || \
	  echo "note: install xvfb (Debian/Ubuntu) for make screenshots on a machine with no display"; }
	touch $(STAMP)

demo: setup
	$(PY) -m vm_editor.demo --out out/demo
	$(PY) -m tools.demo_check out/demo

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

bench: setup
	$(PY) -m benchmarks

lint: setup
	$(VENV)/bin/ruff check .

format: setup
	$(VENV)/bin/ruff format .

clean:
	rm -rf out .pytest_cache

# a real window (Qt's xcb platform, not offscreen); tools.docs.screenshots runs itself under xvfb-run
# when there is no DISPLAY
screenshots: setup
	QT_QPA_PLATFORM=xcb $(PY) -m tools.docs.screenshots --out docs/screenshots

# the user guide's pictures: one real round trip per editor, scored and photographed in a real window
guide-pictures: setup
	QT_QPA_PLATFORM=xcb $(PY) -m tools.docs.guide_pictures --out docs/guide
