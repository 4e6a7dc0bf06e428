/* tradebridge keygen: a new secp256k1 relay key, written as hex to a file that
 * only its owner can read, and the Ethereum address it signs as. Invariant: the
 * key is never written over an existing file, never to a terminal unless asked
 * (--stdout), and wiped from memory before exit. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "crypto/secp256k1.h"
#include "lib/hex.h"

static const char usage[] =
	"usage: tradebridge keygen [-o FILE | --stdout]\n"
	"  Make a new relay key (32 random bytes valid as a secp256k1 secret key) and\n"
	"  print its Ethereum address.\n"
	"  -o, --output FILE  write the key as hex to FILE, created with mode 0600;\n"
	"                     an existing FILE is never overwritten\n"
	"  --stdout           print the key on standard output even when it is a terminal\n"
	"                     (the address then goes to standard error)\n";

static int write_key_file(const char *file, const char *hex)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			fprintf(stderr, "tradebridge keygen: %s already exists: refusing to overwrite "
			                "a key; choose another file or remove it first\n", file);
		else
			fprintf(stderr, "tradebridge keygen: %s: cannot create: %s\n", file,
			        strerror(errno));
		return -1;
	}
	size_t len = strlen(hex);
	/* The umask can only take bits away; make the mode exactly 0600 anyway. */
	int ok = fchmod(fd, 0600) == 0 && write(fd, hex, len) == (ssize_t)len &&
	         write(fd, "\n", 1) == 1 && fsync(fd) == 0;
	int saved = errno;
	if (close(fd) != 0)
		ok = 0;
	if (!ok) {
		fprintf(stderr, "tradebridge keygen: %s: write failed: %s (the file is incomplete: "
		                "remove it)\n", file, strerror(saved));
		return -1;
	}
	return 0;
}

static int keygen(const char *file)
{
	uint8_t key[32], pub[65], addr[20];
	char hex[65], checksum[43];
	struct tb_error err;
	int status = TB_EXIT_USAGE;
	if (tb_secp_keygen(key, &err) || tb_secp_pubkey(key, pub, &err)) {
		fprintf(stderr, "tradebridge keygen: %s\n", err.msg);
		goto out;
	}
	tb_eth_address(pub, addr);
	tb_eth_address_checksum(addr, checksum);
	tb_hex_encode(key, sizeof key, hex);
	if (file) {
		if (write_key_file(file, hex) == 0) {
			printf("address: %s\n", checksum);
			fprintf(stderr, "tradebridge keygen: key written to %s (mode 0600)\n", file);
			status = TB_EXIT_OK;
		}
	} else {
		printf("%s\n", hex);
		fflush(stdout);
		fprintf(stderr, "address: %s\n", checksum);
		status = TB_EXIT_OK;
	}
out:
	explicit_bzero(key, sizeof key);
	explicit_bzero(hex, sizeof hex);
	return status;
}

int tb_cmd_keygen(int argc, char **argv)
{
	static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
	                                         {"stdout", no_argument, NULL, 's'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {NULL, 0, NULL, 0}};
	const char *file = NULL;
	int to_stdout = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		if (c == 'o')
			file = optarg;
		else if (c == 's')
			to_stdout = 1;
		else if (c == 'h')
			return fputs(usage, stdout) < 0 ? TB_EXIT_USAGE : TB_EXIT_OK;
		else
			return tb_cli_bad_option("keygen", argv);
	}
	if (optind < argc)
		return tb_cli_usage("keygen", "unexpected argument");
	if (file && to_stdout)
		return tb_cli_usage("keygen", "give either -o FILE or --stdout, not both");
	if (!file && !to_stdout && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "tradebridge keygen: refusing to print a secret key to a terminal: "
		                "use -o FILE (written 0600) or --stdout\n");
		return TB_EXIT_USAGE;
	}
	return keygen(file);
}
