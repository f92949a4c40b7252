# tcplab — build, test, benchmark, install.
#   make            build ./tcplab and the lab programs its demos run
#   make check      every test (unit, golden, integration in namespaces; root)
#   make demo       the teaching demo in namespaces of its own (root)
#   make bench      benchmarks side by side with the alternatives (root)
#   make install    PREFIX=/usr/local DESTDIR=
#   make uninstall  the same PREFIX and DESTDIR
#   make install-caps  setcap on the installed binary (KERNEL_STATES=1: more, see README)
#   make deb        the Debian package, in build/deb/

PREFIX  ?= /usr/local
DESTDIR ?=
# The one version: the first line of debian/changelog ("tcplab (0.1.0) ...").
VERSION := $(shell awk 'NR == 1 { gsub(/[()]/, "", $$2); print $$2 }' debian/changelog)
NFT_VERSION := $(shell pkg-config --modversion libnftables 2>/dev/null)
TRACEFS_VERSION := $(shell pkg-config --modversion libtracefs 2>/dev/null)
TRACEEVENT_VERSION := $(shell pkg-config --modversion libtraceevent 2>/dev/null)
CC      ?= cc
BUILD   ?= build

PKG_CFLAGS := $(shell pkg-config --cflags libpcap libnftables libtracefs libtraceevent 2>/dev/null) $(shell libnet-config --cflags 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs libpcap libnftables libtracefs libtraceevent 2>/dev/null) $(shell libnet-config --libs 2>/dev/null) -lpthread -lz
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)
# render_svg.c: log10, atan2, sqrt
PKG_LIBS   += -lm

WARN    := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CPPFLAGS) $(CFLAGS) -Iinclude $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS ?=
ALL_LDFLAGS = $(LDFLAGS) $(EXTRA_LDFLAGS)

# Sanitizer build used by `make check` for the unit tests.
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_SRCS  := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJS  := $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
MAIN_OBJ  := $(BUILD)/obj/main.o
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
SAN_LIB_OBJS := $(LIB_SRCS:src/%.c=$(BUILD)/san/%.o)
SAN_UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/san-tests/%)
# The message catalog (issue 12): po/zh_CN.po compiled into a C table at build time.
LIB_OBJS  += $(BUILD)/obj/catalog_data.o
SAN_LIB_OBJS_GEN := $(BUILD)/san/catalog_data.o
LAB_SRCS  := $(wildcard tests/lab/*.c)
LAB_BINS  := $(LAB_SRCS:tests/lab/%.c=$(BUILD)/lab/%)

.SECONDARY:
.PHONY: all check unit unit-san golden integration demo bench install uninstall clean lab deps install-caps deb
.PHONY: all check unit unit-san golden integration demo bench install uninstall clean lab deps fuzz fuzz-build fuzz-regress
.PHONY: all check unit unit-san golden integration demo bench install uninstall clean lab deps pot po-check

# everything tcplab's own commands need: the binary and the lab helpers
# its demos run
all: tcplab lab

tcplab: $(MAIN_OBJ) $(BUILD)/libtcplab.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS) $(ALL_LDFLAGS)

$(BUILD)/libtcplab.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# The version goes into version.o only, rebuilt when the changelog changes;
# no path is compiled in (paths.c finds the data from the binary's place).
$(BUILD)/obj/version.o $(BUILD)/san/version.o: debian/changelog
$(BUILD)/obj/version.o $(BUILD)/san/version.o: EXTRA_CFLAGS += -DTCPLAB_VERSION='"$(VERSION)"'
$(BUILD)/obj/firewall.o $(BUILD)/san/firewall.o: EXTRA_CFLAGS += -DTCPLAB_NFTABLES_BUILT_WITH='"$(NFT_VERSION)"'
$(BUILD)/obj/ktrace.o $(BUILD)/san/ktrace.o: EXTRA_CFLAGS += -DTCPLAB_TRACEFS_BUILT_WITH='"$(TRACEFS_VERSION)"' \
	-DTCPLAB_TRACEEVENT_BUILT_WITH='"$(TRACEEVENT_VERSION)"'

$(BUILD)/obj/%.o: src/%.c $(wildcard include/tcplab/*.h) $(wildcard src/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/san/%.o: src/%.c $(wildcard include/tcplab/*.h) $(wildcard src/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libtcplab.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libtcplab.a $(CMOCKA_LIBS) $(PKG_LIBS) $(ALL_LDFLAGS)

$(BUILD)/san-tests/%: tests/unit/%.c $(SAN_LIB_OBJS) $(SAN_LIB_OBJS_GEN)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $< $(SAN_LIB_OBJS) $(SAN_LIB_OBJS_GEN) $(CMOCKA_LIBS) $(PKG_LIBS) $(ALL_LDFLAGS)

$(BUILD)/lab/%: tests/lab/%.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CPPFLAGS) $(CFLAGS) -o $@ $< -lpthread $(LDFLAGS)

$(BUILD)/gen/catalog_data.c: po/zh_CN.po scripts/po2c.py
	@mkdir -p $(@D)
	python3 scripts/po2c.py $@ po/zh_CN.po

$(BUILD)/obj/catalog_data.o: $(BUILD)/gen/catalog_data.c src/catalog_data.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Isrc -c -o $@ $<

$(BUILD)/san/catalog_data.o: $(BUILD)/gen/catalog_data.c src/catalog_data.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -Isrc -c -o $@ $<

# po/tcplab.pot: the English template translators start a new language from.
pot:
	python3 scripts/po2c.py --pot po/tcplab.pot po/zh_CN.po

# every catalog string has a Chinese translation, and every reason in the
# sources is in the catalog
po-check: tcplab
	python3 tests/po/check.py

lab: $(LAB_BINS)

deps:
	bash scripts/deps.sh

# ---- tests ----
unit: $(UNIT_BINS)
	@bash tests/run-unit.sh $(UNIT_BINS)

unit-san: $(SAN_UNIT_BINS)
	@bash tests/run-unit.sh $(SAN_UNIT_BINS)

golden: tcplab
	@bash tests/golden/run.sh

integration: tcplab lab
	@bash tests/integration/run.sh

check: tcplab lab $(UNIT_BINS) $(SAN_UNIT_BINS)
	@bash tests/check.sh

demo: tcplab lab
	@bash scripts/demo.sh

bench: tcplab lab
	@bash scripts/bench.sh

# ---- fuzzing (issue 13) ----
# make fuzz: libFuzzer harnesses (clang, ASan + UBSan) for the decoder, the
# tracker and the capture reader, each run FUZZ_SECONDS on a seed corpus
# made from captures/; crashing inputs land in tests/fuzz/crashes/HARNESS/
# (keep them: fuzz-regress replays them in `make check`).
FUZZ_SECONDS ?= 60
FUZZ_HARNESSES := decode flow capture
FUZZ_CC ?= clang
FUZZ_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1
FUZZ_LIB_OBJS := $(LIB_SRCS:src/%.c=$(BUILD)/fuzz/obj/%.o) $(BUILD)/fuzz/obj/catalog_data.o
FUZZ_BINS := $(FUZZ_HARNESSES:%=$(BUILD)/fuzz/fuzz_%)
REGRESS_BINS := $(FUZZ_HARNESSES:%=$(BUILD)/fuzz-regress/fuzz_%)

$(BUILD)/fuzz/obj/%.o: src/%.c $(wildcard include/tcplab/*.h) $(wildcard src/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -Wall -Iinclude $(PKG_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

# the compiled-in catalog (generated from po/zh_CN.po) goes into every harness
$(BUILD)/fuzz/obj/catalog_data.o: $(BUILD)/gen/catalog_data.c src/catalog_data.h
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -Wall -Iinclude -Isrc $(PKG_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_links.h $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -Wall -Iinclude $(PKG_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJS) $(PKG_LIBS)

# the same harnesses without libFuzzer (gcc, ASan + UBSan): replay files
$(BUILD)/fuzz-regress/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/regress_main.c tests/fuzz/fuzz_links.h $(SAN_LIB_OBJS) $(SAN_LIB_OBJS_GEN)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $< tests/fuzz/regress_main.c $(SAN_LIB_OBJS) $(SAN_LIB_OBJS_GEN) $(PKG_LIBS) $(ALL_LDFLAGS)

fuzz-build: $(FUZZ_BINS)

$(BUILD)/fuzz/corpus/.made: $(wildcard captures/*) tests/fuzz/make-seeds.py
	rm -rf $(BUILD)/fuzz/corpus && python3 tests/fuzz/make-seeds.py $(BUILD)/fuzz/corpus && touch $@

fuzz: $(FUZZ_BINS) $(BUILD)/fuzz/corpus/.made
	@found=0; for h in $(FUZZ_HARNESSES); do \
		mkdir -p tests/fuzz/crashes/$$h $(BUILD)/fuzz/work/$$h; \
		echo "== fuzz_$$h for $(FUZZ_SECONDS) s"; \
		if ! $(BUILD)/fuzz/fuzz_$$h -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix=tests/fuzz/crashes/$$h/ -print_final_stats=1 \
			$(BUILD)/fuzz/work/$$h $(BUILD)/fuzz/corpus/$$h >$(BUILD)/fuzz/$$h.log 2>&1; then \
			found=1; echo "fuzz_$$h found a crash: see $(BUILD)/fuzz/$$h.log; the input is in tests/fuzz/crashes/$$h/"; \
		fi; \
		grep -E '^(Done|stat::number_of_executed_units)' $(BUILD)/fuzz/$$h.log; \
	done; exit $$found

fuzz-regress: $(REGRESS_BINS)
	@bash tests/fuzz/regress.sh

check: $(REGRESS_BINS)

# ---- install ----
# The installed binary finds its files relative to itself (src/paths.c):
# PREFIX/share/tcplab (demo.sh, demos/) and PREFIX/libexec/tcplab (the lab
# helpers), so these three must keep their places under PREFIX.
BINDIR      = $(PREFIX)/bin
DATADIR     = $(PREFIX)/share/tcplab
LIBEXECDIR  = $(PREFIX)/libexec/tcplab
MAN1DIR     = $(PREFIX)/share/man/man1
BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  = $(PREFIX)/share/zsh/vendor-completions
# File capabilities for `make install-caps`: raw sockets and nftables
# (README, "Install", says what this grants every user of the machine).
# The kernel states read the tracepoint through tracefs: mounting it where
# it is not mounted (unshare + mount: CAP_SYS_ADMIN) and creating a tracing
# instance in root's 0750 tracefs (CAP_DAC_OVERRIDE).  Together those amount
# to root, so they are added only on request: make install-caps KERNEL_STATES=1
CAPS        = cap_net_raw,cap_net_admin
KSTATES_CAPS = cap_sys_admin,cap_dac_override
ifneq ($(filter 1 yes,$(KERNEL_STATES)),)
CAPS       := $(CAPS),$(KSTATES_CAPS)
endif

install: tcplab lab
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MAN1DIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(LIBEXECDIR) \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 0755 tcplab $(DESTDIR)$(BINDIR)/tcplab
	@# the manual's header names the one version (debian/changelog's)
	sed '1s/"tcplab[^"]*"/"tcplab $(VERSION)"/' man/tcplab.1 > $(DESTDIR)$(MAN1DIR)/tcplab.1
	chmod 0644 $(DESTDIR)$(MAN1DIR)/tcplab.1
	install -m 0644 completions/tcplab.bash $(DESTDIR)$(BASHCOMPDIR)/tcplab
	install -m 0644 completions/_tcplab $(DESTDIR)$(ZSHCOMPDIR)/_tcplab
	@# demo.sh and the whole demos/ directory, when there is one (a file per
	@# demo + their library); files starting with #! are executable
	set -e; for f in scripts/demo.sh $$(if [ -d scripts/demos ]; then find scripts/demos -type f; fi); do \
		d=$(DESTDIR)$(DATADIR)/$${f#scripts/}; install -d "$${d%/*}"; \
		if [ "$$(head -c 2 "$$f")" = '#!' ]; then m=0755; else m=0644; fi; \
		install -m $$m "$$f" "$$d"; \
	done
	@# every lab helper built (a shell glob at run time: new ones are picked up)
	for f in $(BUILD)/lab/*; do \
		if [ -f "$$f" ] && [ -x "$$f" ]; then install -m 0755 "$$f" $(DESTDIR)$(LIBEXECDIR)/; fi; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/tcplab $(DESTDIR)$(MAN1DIR)/tcplab.1
	rm -f $(DESTDIR)$(BASHCOMPDIR)/tcplab $(DESTDIR)$(ZSHCOMPDIR)/_tcplab
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(LIBEXECDIR)

# Gives the installed binary its file capabilities, so users run it without
# sudo.  Needs root and a filesystem with extended attributes (not nosuid).
install-caps:
	setcap $(CAPS)+ep $(DESTDIR)$(BINDIR)/tcplab
	getcap $(DESTDIR)$(BINDIR)/tcplab

# The Debian package, built in a copy of the tree (see scripts/build-deb.sh).
deb:
	bash scripts/build-deb.sh

clean:
	rm -rf $(BUILD) tcplab
