namespace Streams.Cli.Cli;

/// <summary>Bad command-line input found after parsing (e.g. a workload's missing stream): stderr, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
