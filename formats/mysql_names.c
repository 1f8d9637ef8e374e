// SPDX-License-Identifier: MIT
/* Names of MySQL commands and column types, as the protocol docs spell
 * them without their prefixes' "MYSQL_" part. */
#include "formats/mysql_int.h"

static const char *const command_names[] = {
	[0x00] = "COM_SLEEP",
	[0x01] = "COM_QUIT",
	[0x02] = "COM_INIT_DB",
	[0x03] = "COM_QUERY",
	[0x04] = "COM_FIELD_LIST",
	[0x05] = "COM_CREATE_DB",
	[0x06] = "COM_DROP_DB",
	[0x07] = "COM_REFRESH",
	[0x08] = "COM_SHUTDOWN",
	[0x09] = "COM_STATISTICS",
	[0x0a] = "COM_PROCESS_INFO",
	[0x0b] = "COM_CONNECT",
	[0x0c] = "COM_PROCESS_KILL",
	[0x0d] = "COM_DEBUG",
	[0x0e] = "COM_PING",
	[0x0f] = "COM_TIME",
	[0x10] = "COM_DELAYED_INSERT",
	[0x11] = "COM_CHANGE_USER",
	[0x12] = "COM_BINLOG_DUMP",
	[0x13] = "COM_TABLE_DUMP",
	[0x14] = "COM_CONNECT_OUT",
	[0x15] = "COM_REGISTER_SLAVE",
	[0x16] = "COM_STMT_PREPARE",
	[0x17] = "COM_STMT_EXECUTE",
	[0x18] = "COM_STMT_SEND_LONG_DATA",
	[0x19] = "COM_STMT_CLOSE",
	[0x1a] = "COM_STMT_RESET",
	[0x1b] = "COM_SET_OPTION",
	[0x1c] = "COM_STMT_FETCH",
	[0x1d] = "COM_DAEMON",
	[0x1e] = "COM_BINLOG_DUMP_GTID",
	[0x1f] = "COM_RESET_CONNECTION",
	[0x20] = "COM_CLONE",
};

const char *dt_mysql_command_name(unsigned command)
{
	if (command < sizeof(command_names) / sizeof(command_names[0]))
		return command_names[command];
	switch (command) {
	case DT_MYSQL_COM_STMT_BULK_EXECUTE:
		return "COM_STMT_BULK_EXECUTE";
	case DT_MYSQL_CMD_HANDSHAKE:
		return "handshake";
	case DT_MYSQL_CMD_NONE:
		return "none";
	default:
		return "COM_UNKNOWN";
	}
}

static const char *const low_type_names[] = {
	[DT_MYSQL_TYPE_DECIMAL] = "DECIMAL",
	[DT_MYSQL_TYPE_TINY] = "TINY",
	[DT_MYSQL_TYPE_SHORT] = "SHORT",
	[DT_MYSQL_TYPE_LONG] = "LONG",
	[DT_MYSQL_TYPE_FLOAT] = "FLOAT",
	[DT_MYSQL_TYPE_DOUBLE] = "DOUBLE",
	[DT_MYSQL_TYPE_NULL] = "NULL",
	[DT_MYSQL_TYPE_TIMESTAMP] = "TIMESTAMP",
	[DT_MYSQL_TYPE_LONGLONG] = "LONGLONG",
	[DT_MYSQL_TYPE_INT24] = "INT24",
	[DT_MYSQL_TYPE_DATE] = "DATE",
	[DT_MYSQL_TYPE_TIME] = "TIME",
	[DT_MYSQL_TYPE_DATETIME] = "DATETIME",
	[DT_MYSQL_TYPE_YEAR] = "YEAR",
	[DT_MYSQL_TYPE_NEWDATE] = "NEWDATE",
	[DT_MYSQL_TYPE_VARCHAR] = "VARCHAR",
	[DT_MYSQL_TYPE_BIT] = "BIT",
	[DT_MYSQL_TYPE_TIMESTAMP2] = "TIMESTAMP2",
	[DT_MYSQL_TYPE_DATETIME2] = "DATETIME2",
	[DT_MYSQL_TYPE_TIME2] = "TIME2",
};

static const char *const high_type_names[] = {
	[DT_MYSQL_TYPE_JSON - DT_MYSQL_TYPE_JSON] = "JSON",
	[DT_MYSQL_TYPE_NEWDECIMAL - DT_MYSQL_TYPE_JSON] = "NEWDECIMAL",
	[DT_MYSQL_TYPE_ENUM - DT_MYSQL_TYPE_JSON] = "ENUM",
	[DT_MYSQL_TYPE_SET - DT_MYSQL_TYPE_JSON] = "SET",
	[DT_MYSQL_TYPE_TINY_BLOB - DT_MYSQL_TYPE_JSON] = "TINY_BLOB",
	[DT_MYSQL_TYPE_MEDIUM_BLOB - DT_MYSQL_TYPE_JSON] = "MEDIUM_BLOB",
	[DT_MYSQL_TYPE_LONG_BLOB - DT_MYSQL_TYPE_JSON] = "LONG_BLOB",
	[DT_MYSQL_TYPE_BLOB - DT_MYSQL_TYPE_JSON] = "BLOB",
	[DT_MYSQL_TYPE_VAR_STRING - DT_MYSQL_TYPE_JSON] = "VAR_STRING",
	[DT_MYSQL_TYPE_STRING - DT_MYSQL_TYPE_JSON] = "STRING",
	[DT_MYSQL_TYPE_GEOMETRY - DT_MYSQL_TYPE_JSON] = "GEOMETRY",
};

const char *dt_mysql_type_name(uint8_t type)
{
	if (type <= DT_MYSQL_TYPE_TIME2)
		return low_type_names[type];
	if (type >= DT_MYSQL_TYPE_JSON)
		return high_type_names[type - DT_MYSQL_TYPE_JSON];
	return "UNKNOWN";
}

bool dt_mysql_type_is_known(uint8_t type)
{
	return type <= DT_MYSQL_TYPE_TIME2 || type >= DT_MYSQL_TYPE_JSON;
}
