# DeeTune: record and replay service traffic with eBPF.
# `make help` lists the targets. All outputs go under $(O) (default build/).

O ?= build
PREFIX ?= /usr/local
DESTDIR ?=
SANITIZE ?= 0
V ?= 0
FUZZ_TIME ?= 60

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
VMLINUX_H ?=

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 $(WARN) -D_GNU_SOURCE -DDEETUNE_VERSION='"$(VERSION)"' \
	  -I. -I$(O)
LDLIBS := -lbpf -lelf -lz -lzstd -ljansson -lcurl -lhiredis \
	  $(shell mariadb_config --libs 2>/dev/null || echo -lmariadb) \
	  -lpcap -lmicrohttpd -lnghttp2 -lpthread
ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	  -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

FORMATS_SRC := $(wildcard formats/*.c)
RECORDER_SRC := $(wildcard recorder/*.c)
REPLAYER_SRC := $(wildcard replayer/*.c)
DIFF_SRC := $(wildcard diff/*.c)
REDACT_SRC := $(wildcard redact/*.c)
TOPO_SRC := $(wildcard topo/*.c)
DAEMON_SRC := $(wildcard daemon/*.c)
DEMO_SRC := $(wildcard demo/*.c)
CLI_SRC := $(wildcard cli/*.c)
BPF_SRC := $(wildcard bpf/*.bpf.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

FORMATS_OBJ := $(FORMATS_SRC:%.c=$(O)/%.o)
RECORDER_OBJ := $(RECORDER_SRC:%.c=$(O)/%.o)
REPLAYER_OBJ := $(REPLAYER_SRC:%.c=$(O)/%.o)
DIFF_OBJ := $(DIFF_SRC:%.c=$(O)/%.o)
REDACT_OBJ := $(REDACT_SRC:%.c=$(O)/%.o)
TOPO_OBJ := $(TOPO_SRC:%.c=$(O)/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(O)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(O)/%.o)
BPF_OBJ := $(BPF_SRC:bpf/%.bpf.c=$(O)/bpf/%.bpf.o)
SKELS := $(BPF_SRC:bpf/%.bpf.c=$(O)/bpf/%.skel.h)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(O)/fuzz/%)

DEETUNE := $(O)/deetune
# the three-tier demo app's backend (demo/, used by `make demo` and tests)
DEMO_BACKEND := $(if $(DEMO_SRC),$(O)/deetune-demo-backend)
MANPAGES := $(wildcard man/*.[0-9])

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all deps test check check-valgrind unit demo fuzz fuzz-build bench \
	install uninstall clean help

all: deps $(DEETUNE) $(DEMO_BACKEND)

help:
	@echo 'DeeTune make targets:'
	@echo '  all          build $(DEETUNE) (default)'
	@echo '  deps         install the Debian packages build, tests and demo need'
	@echo '  test         unit tests under valgrind, then an ASan/UBSan build'
	@echo '               running unit and integration tests (what CI runs)'
	@echo '  check-valgrind  unit tests under valgrind memcheck only'
	@echo '  demo         start demo services on loopback, record, show the session'
	@echo '  fuzz         run every libFuzzer target for FUZZ_TIME seconds (60)'
	@echo '  bench        run the benchmark suite (bench/)'
	@echo '  install      install deetune and man pages (PREFIX, DESTDIR)'
	@echo '  uninstall    remove what install put in place'
	@echo '  clean        remove $(O)/'
	@echo 'Variables: O=DIR  V=1  SANITIZE=1  VMLINUX_H=FILE  FUZZ_TIME=SECONDS'

deps:
	$(Q)scripts/deps.sh

# --- BPF ------------------------------------------------------------------

ifeq ($(VMLINUX_H),)
$(O)/vmlinux.h: | $(O)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@
else
$(O)/vmlinux.h: $(VMLINUX_H) | $(O)
	$(Q)cp $< $@
endif

$(O)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(O)/vmlinux.h | $(O)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
		-I$(O) -Ibpf -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(O)/bpf/%.skel.h: $(O)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# --- C --------------------------------------------------------------------

$(O)/recorder/capture.o $(O)/recorder/tls.o: $(SKELS)

$(O)/%.o: %.c | $(O)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# one static library per module: $(O)/lib<module>.a from <module>/*.c
define module_lib
$$(O)/lib$(1).a: $$($(2)_OBJ)
	$$(call msg,AR,$$@)
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach m,formats:FORMATS recorder:RECORDER replayer:REPLAYER diff:DIFF \
	redact:REDACT topo:TOPO daemon:DAEMON,\
	$(eval $(call module_lib,$(word 1,$(subst :, ,$(m))),$(word 2,$(subst :, ,$(m))))))

# Modules depend one way: cli -> daemon -> topo -> recorder -> redact ->
# formats; cli -> replayer, diff -> formats. Listed dependents first.
MODULE_LIBS := $(if $(DAEMON_SRC),$(O)/libdaemon.a) \
	$(if $(TOPO_SRC),$(O)/libtopo.a) $(O)/librecorder.a \
	$(if $(REPLAYER_SRC),$(O)/libreplayer.a) \
	$(if $(DIFF_SRC),$(O)/libdiff.a) \
	$(if $(REDACT_SRC),$(O)/libredact.a) $(O)/libformats.a

$(DEETUNE): $(CLI_OBJ) $(MODULE_LIBS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(O)/deetune-demo-backend: $(DEMO_SRC:%.c=$(O)/%.o) $(O)/libformats.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(O) $(O)/bpf:
	$(Q)mkdir -p $@

-include $(shell find $(O) -name '*.d' 2>/dev/null)

# --- tests ----------------------------------------------------------------

# A unit test links every module library; the linker pulls in only what
# it uses. tests named test_cli_* also get the CLI's pure helpers.
CLI_HELPER_OBJ := $(filter-out $(O)/cli/main.o $(O)/cli/cmd_%.o,$(CLI_OBJ))
$(O)/tests/test_cli_%: tests/unit/test_cli_%.c $(CLI_HELPER_OBJ) \
		$(MODULE_LIBS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ -lcmocka $(LDLIBS) -o $@

$(O)/tests/%: tests/unit/%.c $(MODULE_LIBS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ -lcmocka $(LDLIBS) -o $@

# `make test` is what CI runs: unit tests under valgrind (plain build),
# then a sanitizer build running unit and integration tests.
test: deps
	$(Q)$(MAKE) --no-print-directory O=$(O) check-valgrind
	$(Q)$(MAKE) --no-print-directory O=$(O)/san SANITIZE=1 check

VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect,possible \
	--show-leak-kinds=definite,indirect,possible

check-valgrind: $(UNIT_BIN)
	$(Q)for t in $(UNIT_BIN); do \
		if $(VALGRIND) $$t >$$t.valgrind.log 2>&1; then \
			echo "valgrind: $$(basename $$t) clean"; \
		else \
			cat $$t.valgrind.log; \
			echo "valgrind: $$(basename $$t) FAILED"; exit 1; \
		fi; \
	done

check: $(DEETUNE) $(DEMO_BACKEND) $(UNIT_BIN)
	$(Q)tests/run.sh $(O)

unit: $(UNIT_BIN)
	$(Q)tests/run.sh --unit-only $(O)

# --- fuzzing --------------------------------------------------------------

FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -I. \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

$(O)/fuzz/%: tests/fuzz/%.c $(FORMATS_SRC) formats/formats.h
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(FORMATS_SRC) -lzstd -ljansson -lnghttp2 -o $@

# fuzz targets of the diff module also compile diff/*.c
$(O)/fuzz/fuzz_diff_%: tests/fuzz/fuzz_diff_%.c $(FORMATS_SRC) $(DIFF_SRC) \
		formats/formats.h diff/diff.h diff/diff_int.h
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(FORMATS_SRC) $(DIFF_SRC) -lzstd -lnghttp2 \
		-ljansson -lz -o $@

# fuzz targets of the redaction module also compile redact/*.c
$(O)/fuzz/fuzz_redact_%: tests/fuzz/fuzz_redact_%.c $(FORMATS_SRC) \
		$(REDACT_SRC) formats/formats.h redact/redact.h
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(FORMATS_SRC) $(REDACT_SRC) -lzstd -lnghttp2 \
		-ljansson -o $@

# the TCP reassembler is fuzzed through the recorder's decoders
FUZZ_RECORDER_SRC := recorder/tcp_reassembly.c recorder/packet_decode.c \
	recorder/assembler.c recorder/pairing.c recorder/http_pair.c \
	recorder/redis_pair.c recorder/mysql_pair.c recorder/h2_pair.c \
	recorder/h2_exchange.c
$(O)/fuzz/fuzz_tcp_reassembly: tests/fuzz/fuzz_tcp_reassembly.c \
		$(FUZZ_RECORDER_SRC) $(FORMATS_SRC) formats/formats.h \
		recorder/recorder_int.h recorder/tcp_reassembly.h
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(FUZZ_RECORDER_SRC) $(FORMATS_SRC) \
		-lzstd -lnghttp2 -ljansson -o $@

fuzz-build: deps $(FUZZ_BIN)

fuzz: fuzz-build
	$(Q)scripts/fuzz.sh $(O)/fuzz $(FUZZ_TIME)

# --- demo, bench, install -------------------------------------------------

demo: all
	$(Q)scripts/demo.sh $(DEETUNE)

bench: all
	$(Q)bench/run.sh $(DEETUNE)

MANDIR := $(DESTDIR)$(PREFIX)/share/man
MAN_SECTIONS := $(sort $(subst .,,$(suffix $(MANPAGES))))

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(DEETUNE) $(DESTDIR)$(PREFIX)/bin/deetune
	$(foreach s,$(MAN_SECTIONS),install -d $(MANDIR)/man$(s) && \
		install -m 0644 $(filter %.$(s),$(MANPAGES)) $(MANDIR)/man$(s)/;)

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/deetune
	rm -f $(foreach s,$(MAN_SECTIONS),$(addprefix $(MANDIR)/man$(s)/,$(notdir $(filter %.$(s),$(MANPAGES)))))

clean:
	rm -rf $(O)
