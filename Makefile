# make demo / make test: build .venv from the pinned requirement files on a fresh machine, then run.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt
STAMP  := $(VENV)/.installed
REQS   := requirements/torch.txt requirements/constraints.txt requirements/base.txt requirements/test.txt \
          requirements/serve.txt setup.py setup.cfg

# DDS traffic never leaves this machine during demos and tests.
export ROS_AUTOMATIC_DISCOVERY_RANGE := LOCALHOST
export ROS_LOCALHOST_ONLY := 1
export RMW_IMPLEMENTATION := rmw_fastrtps_cpp

.PHONY: venv demo test test-all bench clean system-deps

venv: $(STAMP)

# open3d's wheel links against these system libraries (soname:Debian package), which a slim Debian or Ubuntu
# lacks; `python3.11 -m venv` needs python3.11-venv (python3-venv is the distribution's default Python's, which
# on Ubuntu is not 3.11). (ldconfig lives in /sbin, off a normal user's PATH.)
OPEN3D_LIBS := libusb-1.0.so.0:libusb-1.0-0 libGL.so.1:libgl1 libEGL.so.1:libegl1 libX11.so.6:libx11-6 \
               libudev.so.1:libudev1 libidn2.so.0:libidn2-0

system-deps:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "make: needs Python 3.11 (the ROS 2 wheels are cp311); run with PYTHON=python3.11"; exit 1; }
	@missing=""; \
	for lib in $(OPEN3D_LIBS); do \
		/sbin/ldconfig -p | grep -q "$${lib%%:*}" || missing="$$missing $${lib#*:}"; \
	done; \
	$(PYTHON) -c 'import ensurepip' 2>/dev/null || missing="$$missing python3.11-venv"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): $(REQS) | system-deps
	$(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements/torch.txt
	$(PIP) -r requirements/base.txt -r requirements/test.txt
	$(PIP) --no-deps -r requirements/serve.txt
	$(PIP) --no-deps --no-build-isolation -e .
	touch $@

demo: $(STAMP)
	$(VENV)/bin/vision_banana demo --out demo_output

test: $(STAMP)
	$(PY) -m pytest

# Slow tests (marked `slow`) are excluded from `make test`; this runs everything.
test-all: $(STAMP)
	$(PY) -m pytest -m ""

bench: $(STAMP)
	$(VENV)/bin/vision_banana bench --codecs

clean:
	rm -rf $(VENV) demo_output build install log *.egg-info .pytest_cache .hypothesis
