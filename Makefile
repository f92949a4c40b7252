# tcplab — build, test, benchmark, install.
#   make            build ./tcplab
#   make check      every test (unit, golden, integration in namespaces; root)
#   make demo       the teaching demo in namespaces of its own (root)
#   make bench      benchmarks side by side with the alternatives (root)
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
BUILD   ?= build

PKG_CFLAGS := $(shell pkg-config --cflags libpcap libnftables 2>/dev/null) $(shell libnet-config --cflags 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs libpcap libnftables 2>/dev/null) $(shell libnet-config --libs 2>/dev/null) -lpthread
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Iinclude $(PKG_CFLAGS) $(EXTRA_CFLAGS)
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
LAB_SRCS  := $(wildcard tests/lab/*.c)
LAB_BINS  := $(LAB_SRCS:tests/lab/%.c=$(BUILD)/lab/%)

.SECONDARY:
.PHONY: all check unit unit-san golden integration demo bench install uninstall clean lab deps

all: tcplab

tcplab: $(MAIN_OBJ) $(BUILD)/libtcplab.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS) $(ALL_LDFLAGS)

$(BUILD)/libtcplab.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/obj/main.o: EXTRA_CFLAGS += -DTCPLAB_SHAREDIR='"$(PREFIX)/share/tcplab"'

$(BUILD)/obj/%.o: src/%.c $(wildcard include/tcplab/*.h) $(wildcard src/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/san/%.o: src/%.c $(wildcard include/tcplab/*.h) $(wildcard src/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libtcplab.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libtcplab.a $(CMOCKA_LIBS) $(PKG_LIBS) $(ALL_LDFLAGS)

$(BUILD)/san-tests/%: tests/unit/%.c $(SAN_LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $< $(SAN_LIB_OBJS) $(CMOCKA_LIBS) $(PKG_LIBS) $(ALL_LDFLAGS)

$(BUILD)/lab/%: tests/lab/%.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -g -o $@ $< -lpthread

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

# ---- install ----
install: tcplab lab
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/tcplab
	install -m 0755 tcplab $(DESTDIR)$(PREFIX)/bin/tcplab
	install -m 0644 man/tcplab.1 $(DESTDIR)$(PREFIX)/share/man/man1/tcplab.1
	install -m 0644 scripts/demo.sh $(DESTDIR)$(PREFIX)/share/tcplab/demo.sh
	install -m 0755 $(BUILD)/lab/tcpserver $(DESTDIR)$(PREFIX)/share/tcplab/tcpserver
	install -d $(DESTDIR)$(PREFIX)/share/tcplab/demos
	install -m 0644 scripts/demos/*.sh scripts/demos/*.py $(DESTDIR)$(PREFIX)/share/tcplab/demos/
	install -m 0755 $(BUILD)/lab/synflood $(BUILD)/lab/simclose $(DESTDIR)$(PREFIX)/share/tcplab/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/tcplab $(DESTDIR)$(PREFIX)/share/man/man1/tcplab.1
	rm -rf $(DESTDIR)$(PREFIX)/share/tcplab

clean:
	rm -rf $(BUILD) tcplab
