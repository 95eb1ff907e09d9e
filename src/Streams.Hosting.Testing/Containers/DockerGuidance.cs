namespace Streams.Hosting.Testing.Containers;

/// <summary>What a start failure tells the reader to do.</summary>
internal static class DockerGuidance
{
    public const string HowToGetABroker =
        "The container tests need a Docker engine to run RabbitMQ in: start one (Docker Desktop, or on Debian as root: " +
        "`apt-get install -y docker.io && dockerd &`; in the Streams.Hosting repository `bash scripts/docker.sh up image` " +
        "then `eval \"$(bash scripts/docker.sh env)\"`) and make sure `docker info` works for this user (DOCKER_HOST). " +
        "An engine older than Docker API 1.44 (Debian's docker.io 20.10 = API 1.41) refuses Testcontainers: set " +
        "DOCKER_API_VERSION to the engine's version (`docker version --format '{{.Server.APIVersion}}'`). Without a " +
        "registry, set TESTCONTAINERS_RYUK_DISABLED=true and STREAMS_RABBITMQ_IMAGE to a local RabbitMQ 4 image.";
}
