/* SPDX-License-Identifier: MIT */
/* Private to the protobuf code: the wire format's varint, shared by the
 * schemaless decoder (protobuf.c) and the descriptor set reader
 * (protobuf_desc.c). */
#ifndef DEETUNE_FORMATS_PROTOBUF_INT_H
#define DEETUNE_FORMATS_PROTOBUF_INT_H

#include <stddef.h>
#include <stdint.h>

/* Reads the varint at buf[*off..len) into *v and advances *off: at most
 * 10 bytes, a value that fits 64 bits. 0 or -EBADMSG. */
int dt_pb_read_varint(const uint8_t *buf, size_t len, size_t *off,
		      uint64_t *v);

#endif /* DEETUNE_FORMATS_PROTOBUF_INT_H */
