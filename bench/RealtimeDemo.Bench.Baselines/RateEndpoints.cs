using RealtimeDemo.Ticker;
using RealtimeDemo.Bench.Baselines.Events;

namespace RealtimeDemo.Bench.Baselines;

/// <summary>
/// <c>GET /rate</c> and <c>PUT /rate</c>: the benchmark's control of the publisher. Both answer
/// <c>{"eventsPerSecond": n, "seq": last}</c>, where <c>seq</c> is the last event published.
/// </summary>
public static class RateEndpoints
{
    public static IEndpointRouteBuilder MapRate(this IEndpointRouteBuilder app)
    {
        app.MapGet("/rate", (Publisher publisher) => State(publisher.State));
        app.MapPut("/rate", SetRate);
        return app;
    }

    private static IResult SetRate(RateRequest body, Publisher publisher)
    {
        if (body.EventsPerSecond is not { } rate || !SteadyRate.IsValid(rate))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["eventsPerSecond"] = [$"must be 0 (off) or a number from {SteadyRate.MinEventsPerSecond} to {SteadyRate.MaxEventsPerSecond}"],
            });
        }

        return State(publisher.SetRate(rate));
    }

    private static IResult State((double EventsPerSecond, long Seq) state) =>
        TypedResults.Ok(new RateState(state.EventsPerSecond, state.Seq));

    public sealed record RateRequest(double? EventsPerSecond);

    public sealed record RateState(double EventsPerSecond, long Seq);
}
