/*
 * fuzz_config — libFuzzer target for the YAML configuration loader
 * (broker/config.h): any bytes as replogd.yaml. Contracts: config_load_string
 * returns 0 or an error with a non-empty message that names the file, never
 * crashes or reads past the input; a loaded config is then validated, which
 * must also return cleanly.
 */
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "rlassert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct broker_config c;
	char err[512] = "";
	memset(&c, 0, sizeof(c));
	int rc = config_load_string(&c, (const char *)data, size, "fuzz.yaml", err, sizeof(err));
	if (rc != 0) {
		RL_ASSERT(err[0] != '\0');
		return 0;
	}
	err[0] = '\0';
	if (config_validate(&c, err, sizeof(err)) != 0)
		RL_ASSERT(err[0] != '\0');
	return 0;
}
