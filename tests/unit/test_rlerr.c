/* Description: every replog error code has a distinct message, errno values pass through. */
#include "testutil.h"

#include <errno.h>
#include <string.h>

#include "rlerr.h"

static void test_codes_have_distinct_messages(void **state)
{
	(void)state;
	for (int a = RL_EBASE - 1; a > RL_ELAST; a--) {
		const char *ma = rl_strerror(a);
		assert_non_null(ma);
		assert_string_not_equal(ma, "unknown error");
		for (int b = a - 1; b > RL_ELAST; b--)
			assert_string_not_equal(ma, rl_strerror(b));
	}
}

static void test_errno_passthrough(void **state)
{
	(void)state;
	assert_string_equal(rl_strerror(-ENOSPC), strerror(ENOSPC));
	assert_string_equal(rl_strerror(0), "success");
	assert_string_equal(rl_strerror(RL_ELAST), "unknown error");
	assert_string_equal(rl_strerror(5), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codes_have_distinct_messages),
		cmocka_unit_test(test_errno_passthrough),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
