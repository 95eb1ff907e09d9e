namespace Streams.Cli.Cli;

/// <summary>The exit codes of <c>streams</c>, the same for every command.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>The broker refused or failed, or the client failed (connection, timeout, protocol).</summary>
    public const int Failure = 1;

    /// <summary>Bad input: an unknown command or option, a malformed or out-of-range value, options that exclude each other.</summary>
    public const int Usage = 2;

    /// <summary>Interrupted (Ctrl+C).</summary>
    public const int Interrupted = 130;
}
