# `make run`: set up and start kbot on the embedded defaults. `make test`: set up and run every test.
# `make local`: add llama-cpp-python for the local GGUF backend (built from source once, ~6 min; `make test` does it).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.kbot-installed
LOCAL_STAMP := $(VENV)/.kbot-local
export HF_HUB_DISABLE_TELEMETRY := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: setup local run test lint bench clean browser ocr

# Everything but llama-cpp-python: the default (extractive) and OpenAI backends never import it.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first and pinned: this is the CPU wheel; anything else pulls a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	grep -v '^llama_cpp_python==' requirements.lock > $(VENV)/requirements-core.txt
	$(BIN)/pip install -q -r $(VENV)/requirements-core.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

# llama-cpp-python (local backend) is built from source once (~6 min on 2 cores); pip caches the wheel.
$(LOCAL_STAMP): $(STAMP)
	CMAKE_ARGS="-DLLAVA_BUILD=OFF" $(BIN)/pip install -q $$(grep '^llama_cpp_python==' requirements.lock)
	touch $(LOCAL_STAMP)

local: $(LOCAL_STAMP)

run: setup
	$(BIN)/kbot ingest corpus/
	$(BIN)/kbot serve

# The UI test drives Debian's Chromium (never `playwright install`, which downloads a browser). Korean needs
# fonts-nanum. Installed here when missing and running as root (as in CI); otherwise install them yourself.
browser:
	@command -v chromium >/dev/null && fc-list | grep -qi nanum || \
	  { if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium fonts-nanum >/dev/null; \
	    else echo "need: sudo apt-get install chromium fonts-nanum" >&2; exit 1; fi; }

# OCR of scanned PDF pages: Debian's Tesseract with its Korean model (installed like the browser, when missing).
ocr:
	@tesseract --list-langs 2>/dev/null | grep -qx kor || \
	  { if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq tesseract-ocr tesseract-ocr-kor >/dev/null; \
	    else echo "need: sudo apt-get install tesseract-ocr tesseract-ocr-kor" >&2; exit 1; fi; }

test: setup local browser ocr
	$(BIN)/ruff check .
	HF_HUB_OFFLINE=1 $(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check .

bench: setup local
	HF_HUB_OFFLINE=1 $(BIN)/kbot bench all
	HF_HUB_OFFLINE=1 $(BIN)/kbot bench scale
	HF_HUB_OFFLINE=1 $(BIN)/kbot eval ../shared/eval/dev.jsonl --name dev

clean:
	rm -rf $(VENV) .kbot .pytest_cache
