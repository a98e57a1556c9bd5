/* memfloor.c: the memory floor of a long-running libcurl program, for
 * section 8's watcher memory: linked with the same shared libraries as
 * tunnelctl, it initialises libcurl, makes one easy handle, gives the heap
 * back (malloc_trim, as the watcher does after a round) and sleeps until a
 * signal. Its USS and private dirty memory are what any such process costs
 * on this system before it does any work. Usage: memfloor */
#include <curl/curl.h>
#include <malloc.h>
#include <stdio.h>
#include <unistd.h>

int
main(void)
{
	CURL *h;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (h = curl_easy_init()) == NULL) {
		fprintf(stderr, "memfloor: libcurl did not initialise\n");
		return 1;
	}
	malloc_trim(0);
	puts("ready");
	fflush(stdout);
	pause();
	curl_easy_cleanup(h);
	curl_global_cleanup();
	return 0;
}
