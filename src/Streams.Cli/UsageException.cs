namespace Streams.Cli;

/// <summary>Bad command-line input: reported on stderr with exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
